"""Every module fails in one shape: ``msg``, ``error_type`` and, where one option is at fault, ``field``.

Each module runs as Ansible runs it (its file with an arguments file), once refused by Ansible's own argument
check (an unknown option) and once refused by the collection's own checks through module_runner.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.as_a_user.ansible_cli import run_module

pytestmark = pytest.mark.registry

MODULES = sorted(path.stem for path in (Path(__file__).resolve().parents[4] / "plugins" / "modules").glob("gpve_*.py"))
REGISTRY = "{tmp}/registry.db"

# module -> (arguments the collection's checks refuse, the field they name, the error type)
REFUSED = {
    "gpve_cluster_backup": ({"cluster": "lab", "include_namespaces": ["../etc"], "registry": REGISTRY}, "include_namespaces[0]",
                            "ValidationError"),
    "gpve_cluster_credential": ({"name": "lab", "type": "../kubeconfig", "registry": REGISTRY}, "type", "ValidationError"),
    "gpve_cluster_info": ({"limit": -1, "registry": REGISTRY}, "limit", "ValidationError"),
    "gpve_cluster_phase": ({"name": "Bad Name", "phase": "Running", "registry": REGISTRY}, "name", "ValidationError"),
    "gpve_external_cluster": ({"name": "Bad Name", "kubeconfig": "{tmp}/missing.conf", "registry": REGISTRY}, "name",
                              "ValidationError"),
    "gpve_k8s_upgrade_plan": ({"name": "Bad Name", "target_version": "1.36.0", "registry": REGISTRY}, "name", "ValidationError"),
    "gpve_k8s_vm": ({"name": "Bad Name", "api_url": "https://127.0.0.1:9", "api_user": "root@pam", "api_password": "x",
                     "registry": REGISTRY}, "name", "ValidationError"),
    "gpve_kubeadm_token": ({"kubeconfig": "{tmp}/missing.conf"}, "kubeconfig", "ValidationError"),
    "gpve_kubeconfig": ({"name": "Bad Name", "registry": REGISTRY}, "name", "ValidationError"),
    "gpve_registry": ({"registry": "mysql://db/gpve"}, "registry", "ValidationError"),
    "gpve_vcluster": ({"name": "Bad Name", "registry": REGISTRY}, "name", "ValidationError"),
    "gpve_webhook": ({"name": "Bad Name", "url": "https://hooks.example/x", "secret": "a-webhook-secret", "registry": REGISTRY}, "name",
                     "ValidationError"),
}


def expanded(args, tmp_path):
    return {key: value.replace("{tmp}", str(tmp_path)) if isinstance(value, str) else value for key, value in args.items()}


def test_the_table_covers_every_module():
    assert sorted(REFUSED) == MODULES


@pytest.mark.parametrize("module", MODULES)
def test_an_unknown_option_fails_with_the_argument_checks_error_type_and_the_option_as_field(module, tmp_path):
    args, _field, _error_type = REFUSED[module]
    result = run_module(module, dict(expanded(args, tmp_path), bogus=True), tmp_path)
    assert result["failed"] is True and "Unsupported parameters" in result["msg"]
    assert (result["error_type"], result["field"]) == ("UnsupportedError", "bogus")


@pytest.mark.parametrize("module", MODULES)
def test_a_refused_value_fails_with_its_error_type_and_field(module, tmp_path):
    args, field, error_type = REFUSED[module]
    result = run_module(module, expanded(args, tmp_path), tmp_path)
    assert result["failed"] is True and result["msg"], result
    assert (result.get("error_type"), result.get("field")) == (error_type, field), result["msg"]
