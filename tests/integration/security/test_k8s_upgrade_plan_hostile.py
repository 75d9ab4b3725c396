"""gpve_k8s_upgrade_plan run as Ansible runs it on a real SQLite registry holding a Running K8s-on-VM cluster (kubeadm
1.36.4, one control plane, two workers), with hostile arguments: each run fails naming the field, and the registry's
rows and the sandbox stay as they were (the module only reads: a refusal must not be a traceback, nor a plan)."""

from __future__ import annotations

import pytest

from hostile_support import files_under, name_cases, refused_writing_nothing, registry_cases, registry_rows
from tests.as_a_user import ansible_cli

pytestmark = pytest.mark.roles

SECRET = "hunter2-upgrade"
BASE = {"name": "lab", "target_version": "1.37.2", "max_unavailable": "1"}

# (id, arguments over BASE, field named)
CASES = name_cases("name") + registry_cases(SECRET) + [
    ("name-upper", {"name": "LAB"}, "name"),
    ("name-list", {"name": ["lab"]}, "name"),
    ("version-shell", {"target_version": "1.37.2; id"}, "target_version"),
    ("version-empty", {"target_version": ""}, "target_version"),
    ("version-short", {"target_version": "1.37"}, "target_version"),
    ("version-traversal", {"target_version": "../1.37.2"}, "target_version"),
    ("version-other-digits", {"target_version": "1.37.\u0662"}, "target_version"),
    ("version-huge", {"target_version": "1.37." + "9" * 5000}, "target_version"),
    ("version-downgrade", {"target_version": "1.35.0"}, "target_version"),
    ("version-major", {"target_version": "2.0.0"}, "target_version"),
    ("release-shell", {"target_release": "v1.37.2;id"}, "target_release"),
    ("release-substitution", {"target_release": "$(id)"}, "target_release"),
    ("release-other-kubernetes", {"target_release": "v1.37.1"}, "target_release"),
    ("release-traversal", {"target_release": "../v1.37.2"}, "target_release"),
    ("release-newline", {"target_release": "v1.37.2\nkind: Secret"}, "target_release"),
    ("release-huge", {"target_release": "v1.37." + "2" * 5000}, "target_release"),
    ("batch-zero", {"max_unavailable": "0"}, "max_unavailable"),
    ("batch-negative", {"max_unavailable": "-1"}, "max_unavailable"),
    ("batch-exponent", {"max_unavailable": "1e9"}, "max_unavailable"),
    ("batch-huge", {"max_unavailable": "99999999999999999"}, "max_unavailable"),
    ("batch-nan-percent", {"max_unavailable": "nan%"}, "max_unavailable"),
    ("batch-inf-percent", {"max_unavailable": "inf%"}, "max_unavailable"),
    ("batch-zero-percent", {"max_unavailable": "0%"}, "max_unavailable"),
    ("batch-over-percent", {"max_unavailable": "150%"}, "max_unavailable"),
    ("batch-fraction", {"max_unavailable": "1.5"}, "max_unavailable"),
    ("batch-empty", {"max_unavailable": ""}, "max_unavailable"),
    ("batch-shell", {"max_unavailable": "$(id)"}, "max_unavailable"),
    ("unknown-option", {"bogus": True}, "bogus"),
]


@pytest.mark.parametrize("args, field", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_argument_fails_naming_the_field_and_writes_nothing(k8s_vm_registry, sandbox, tmp_path, args, field):
    refused_writing_nothing("gpve_k8s_upgrade_plan", dict(dict(BASE, registry=k8s_vm_registry), **args), tmp_path, field,
                            k8s_vm_registry, sandbox, SECRET)


def test_without_a_hostile_argument_the_plan_is_made_and_nothing_is_written(k8s_vm_registry, sandbox, tmp_path):
    rows, files = registry_rows(k8s_vm_registry), files_under(str(sandbox))
    result = ansible_cli.run_module("gpve_k8s_upgrade_plan", dict(BASE, registry=k8s_vm_registry), tmp_path)
    assert not result.get("failed"), result.get("msg")
    assert result["needed"] and result["worker_batches"] == [["lab-general-1"], ["lab-general-2"]]
    assert (registry_rows(k8s_vm_registry), files_under(str(sandbox))) == (rows, files)
