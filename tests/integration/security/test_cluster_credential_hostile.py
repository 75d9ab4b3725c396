"""gpve_cluster_credential run as Ansible runs it on a real SQLite registry holding one cluster, with hostile
arguments: each run fails naming the field, writes no row and no file (dest is checked before the registry is
read), and shows no secret of its arguments."""

from __future__ import annotations

import pytest

from hostile_support import name_cases, refused_writing_nothing, registry_cases

pytestmark = pytest.mark.registry

SECRET = "hunter2-credential"
BASE = {"name": "lab", "type": "custom-token", "content": "credential-content-value"}

# (id, arguments over BASE, field named); None removes an argument.
CASES = name_cases("name") + registry_cases(SECRET) + [
    ("type-traversal", {"type": "../kubeconfig"}, "type"),
    ("type-shell", {"type": "token;id"}, "type"),
    ("type-empty", {"type": ""}, "type"),
    ("type-huge", {"type": "t" * 100}, "type"),
    ("type-hidden", {"type": ".hidden"}, "type"),
    ("type-space", {"type": "my token"}, "type"),
    ("dest-directory", {"state": "exported", "dest": "{sandbox}", "content": None}, "dest"),
    ("dest-under-a-file", {"state": "exported", "dest": "{sandbox}/a-file/kc.yaml", "content": None}, "dest"),
    ("dest-under-proc-file", {"state": "exported", "dest": "/proc/version/x", "content": None}, "dest"),
    ("exported-without-dest", {"state": "exported", "content": None}, "dest"),
    ("src-missing", {"content": None, "src": "{sandbox}/absent"}, "src"),
    ("src-directory", {"content": None, "src": "{sandbox}"}, "src"),
    ("content-and-src", {"src": "/etc/hostname"}, "content"),
    ("content-huge", {"content": "c" * (1100 * 1024)}, "content"),
    ("present-without-content", {"content": None}, "content"),
    ("state-unknown", {"state": "gone"}, "state"),
    ("overwrite-word", {"overwrite": "maybe"}, "overwrite"),
    ("return-content-word", {"return_content": "perhaps"}, "return_content"),
    ("unknown-option", {"bogus": True}, "bogus"),
    ("unknown-option-path", {"path": "/etc/shadow"}, "path"),
    ("registry-control", {"registry": "/tmp/a\x07.db"}, "registry"),
]


@pytest.mark.parametrize("args, field", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_argument_fails_naming_the_field_and_writes_nothing(registry, sandbox, tmp_path, args, field):
    refused_writing_nothing("gpve_cluster_credential", dict(dict(BASE, registry=registry), **args), tmp_path, field,
                            registry, sandbox, SECRET)
