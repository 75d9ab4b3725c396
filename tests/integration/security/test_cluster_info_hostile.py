"""gpve_cluster_info run as Ansible runs it on a real SQLite registry holding one cluster, with hostile arguments:
each run fails naming the field, writes no row and no textfile, and shows no secret of its arguments."""

from __future__ import annotations

import pytest

from hostile_support import name_cases, refused_writing_nothing, registry_cases

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


@pytest.mark.parametrize("args, field", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_argument_fails_naming_the_field_and_writes_nothing(registry, sandbox, tmp_path, args, field):
    refused_writing_nothing("gpve_cluster_info", dict(dict(registry=registry), **args), tmp_path, field, registry,
                            sandbox, SECRET)
