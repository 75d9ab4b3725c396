"""gpve_webhook run as Ansible runs it on a real SQLite registry (holding one cluster and its events), with hostile
arguments: each run fails naming the field, writes no row (no subscriber, no delivery), and shows no secret."""

from __future__ import annotations

import pytest

from hostile_support import name_cases, refused, registry_cases, registry_rows
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry

pytestmark = pytest.mark.registry

SECRET = "hunter2-webhook"
BASE = {"name": "hooks", "url": "https://hooks.example/gpve", "secret": "signing-secret-value"}

# (id, arguments over BASE, field named)
CASES = name_cases("name") + registry_cases(SECRET) + [
    ("url-credentials", {"url": f"https://admin:{SECRET}@hooks.example/gpve"}, "url"),
    ("url-file", {"url": "file:///etc/passwd"}, "url"),
    ("url-javascript", {"url": "javascript:alert(1)"}, "url"),
    ("url-no-host", {"url": "http://"}, "url"),
    ("url-ftp", {"url": "ftp://hooks.example/x"}, "url"),
    ("url-header-injection", {"url": "https://hooks.example/x\r\nHost: evil"}, "url"),
    ("url-bad-port", {"url": "https://hooks.example:99999/x"}, "url"),
    ("event-type-typo", {"event_types": ["cluster.craeted"]}, "event_types"),
    ("event-type-nothing", {"event_types": ["*.nothing"]}, "event_types"),
    ("event-type-huge", {"event_types": ["cluster." + "x" * 200]}, "event_types"),
    ("event-types-string-with-typo", {"event_types": "cluster.created,bogus"}, "event_types"),
    ("event-types-too-many", {"event_types": ["cluster.*"] * 100}, "event_types"),
    ("event-type-one-char", {"event_types": ["?"]}, "event_types"),
    ("max-attempts-zero", {"max_attempts": 0}, "max_attempts"),
    ("max-attempts-huge", {"max_attempts": 10 ** 6}, "max_attempts"),
    ("retry-delay-negative", {"retry_delay": -1}, "retry_delay"),
    ("retry-delay-huge", {"retry_delay": 1e7}, "retry_delay"),
    ("timeout-zero", {"timeout": 0}, "timeout"),
    ("timeout-negative", {"timeout": -1}, "timeout"),
    ("secret-huge", {"secret": "s" * (1100 * 1024)}, "secret"),
    ("state-unknown", {"state": "gone"}, "state"),
    ("unknown-option", {"bogus": True}, "bogus"),
]


def test_the_table_is_large_enough():
    assert len(CASES) >= 30


@pytest.fixture
def registry(tmp_path):
    path = str(tmp_path / "registry.db")
    with open_registry(path, environ={}) as store:
        store.create_cluster("lab", "external", spec={"endpoint": "https://127.0.0.1:6443"})
    return path


@pytest.mark.parametrize("args, field", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_argument_fails_naming_the_field_and_writes_nothing(registry, tmp_path, args, field):
    values = dict(dict(BASE, registry=registry), **args)
    rows = registry_rows(registry)
    result = refused("gpve_webhook", values, tmp_path, field)
    assert registry_rows(registry) == rows
    assert SECRET not in repr(result)
