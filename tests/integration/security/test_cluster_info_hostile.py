"""gpve_cluster_info run as Ansible runs it on a real SQLite registry holding one cluster, with hostile arguments:
each run fails naming the field, writes no row and no textfile, and shows no secret of its arguments."""

from __future__ import annotations

import pytest

from hostile_support import files_under, name_cases, refused, registry_cases, registry_rows
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry

pytestmark = pytest.mark.registry

SECRET = "hunter2-info"

# (id, arguments, field named)
CASES = name_cases("name") + registry_cases(SECRET) + [
    ("id-traversal", {"id": "../../etc/passwd"}, "id"),
    ("id-shell", {"id": "x;id"}, "id"),
    ("limit-zero", {"limit": 0}, "limit"),
    ("limit-negative", {"limit": -1}, "limit"),
    ("limit-huge", {"limit": 10 ** 12}, "limit"),
    ("offset-negative", {"offset": -5}, "offset"),
    ("events-limit-negative", {"events_limit": -1}, "events_limit"),
    ("events-limit-huge", {"events_limit": 10 ** 9}, "events_limit"),
    ("threshold-zero", {"failure_threshold": 0}, "failure_threshold"),
    ("threshold-huge", {"failure_threshold": 10 ** 6}, "failure_threshold"),
    ("health-timeout-zero", {"health_timeout": 0}, "health_timeout"),
    ("health-timeout-huge", {"health_timeout": 1e9}, "health_timeout"),
    ("phase-shell", {"phase": ["Running; id"]}, "phase[0]"),
    ("phase-lower", {"phase": ["running", "../x"]}, "phase[0]"),
    ("label-key", {"labels": {"bad key": "x"}}, "labels"),
    ("label-value", {"labels": {"team": "$(id)"}}, "labels.team"),
    ("type-unknown", {"type": ["kubevirt"]}, "type"),
    ("format-unknown", {"format": "html"}, "format"),
    ("dest-without-prometheus", {"dest": "{sandbox}/gpve.prom"}, "dest"),
    ("dest-wrong-suffix", {"format": "prometheus", "dest": "{sandbox}/gpve.txt"}, "dest"),
    ("dest-under-a-file", {"format": "prometheus", "dest": "{sandbox}/a-file/gpve.prom"}, "dest"),
    ("update-without-health", {"update_registry": True}, "update_registry"),
    ("unknown-option", {"bogus": True}, "bogus"),
    ("api-url-credentials", {"drift": True, "api_url": f"https://root:{SECRET}@127.0.0.1:8006", "api_user": "root@pam",
                             "api_password": "x-password-value"}, "api_url"),
]


def test_the_table_is_large_enough():
    assert len(CASES) >= 30


@pytest.fixture
def sandbox(tmp_path):
    root = tmp_path / "sandbox"
    root.mkdir()
    (root / "a-file").write_text("x\n")
    return root


@pytest.fixture
def registry(tmp_path):
    path = str(tmp_path / "registry.db")
    with open_registry(path, environ={}) as store:
        store.create_cluster("lab", "external", spec={"endpoint": "https://127.0.0.1:6443"})
    return path


@pytest.mark.parametrize("args, field", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_argument_fails_naming_the_field_and_writes_nothing(registry, sandbox, tmp_path, args, field):
    values = dict(dict(registry=registry), **args)
    values = {key: value.format(sandbox=sandbox) if isinstance(value, str) and "{sandbox}" in value else value
              for key, value in values.items()}
    rows, files = registry_rows(registry), files_under(str(sandbox))
    result = refused("gpve_cluster_info", values, tmp_path, field)
    assert registry_rows(registry) == rows
    assert files_under(str(sandbox)) == files
    assert SECRET not in repr(result)
