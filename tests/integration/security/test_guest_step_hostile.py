"""gpve_guest_step run as Ansible runs it, with hostile arguments over a run that would append a record under the
sandbox: each run fails naming the field and writes nothing - no record, no directory for it (the path is checked
before the first directory is made), nothing anywhere else in the sandbox. The module has no registry: the registry
location given to the helper is one that must stay absent."""

from __future__ import annotations

import pytest

from hostile_support import accepted_writing, name_cases, refused_writing_nothing

pytestmark = pytest.mark.roles

SECRET = "hunter2-guest-step"
BASE = {"path": "{sandbox}/records/steps.jsonl", "step": "kubeadm-init", "host": "lab-cp-1", "cluster": "lab",
        "play": "Create the cluster", "data": {"config": "a: 1"}}

# (id, arguments over BASE, field named)
CASES = name_cases("step") + name_cases("host") + name_cases("cluster") + [
    ("step-hidden", {"step": ".kubeadm-init"}, "step"),
    ("host-space", {"host": "lab cp 1"}, "host"),
    ("cluster-upper", {"cluster": "LAB"}, "cluster"),
    ("path-directory", {"path": "{sandbox}"}, "path"),
    ("path-under-a-file", {"path": "{sandbox}/a-file/records/steps.jsonl"}, "path"),
    ("path-under-proc-file", {"path": "/proc/version/steps.jsonl"}, "path"),
    ("path-device", {"path": "/dev/null"}, "path"),
    ("path-nul", {"path": "{sandbox}/records/steps\x00.jsonl"}, "path"),
    ("play-escape", {"play": "Create\x1b[31m the cluster"}, "play"),
    ("play-newline", {"play": "Create\nkind: Secret"}, "play"),
    ("play-huge", {"play": "p" * 2000}, "play"),
    ("data-alias-bomb", {"data": {"x": [["lol" * 40] * 100] * 100}}, "data"),
    ("data-not-a-mapping", {"data": "config ["}, "data"),
    ("unknown-option", {"bogus": True}, "bogus"),
]


@pytest.mark.parametrize("args, field", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_argument_fails_naming_the_field_and_writes_nothing(sandbox, tmp_path, args, field):
    refused_writing_nothing("gpve_guest_step", dict(BASE, **args), tmp_path, field, str(tmp_path / "no-registry.db"),
                            sandbox, SECRET)


def test_without_a_hostile_argument_the_record_is_written_where_the_table_looks(sandbox, tmp_path):
    result = accepted_writing("gpve_guest_step", BASE, tmp_path, str(tmp_path / "no-registry.db"), sandbox)
    assert result["line"] == 1 and (sandbox / "records" / "steps.jsonl").is_file()
