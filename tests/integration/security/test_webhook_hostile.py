"""gpve_webhook run as Ansible runs it on a real SQLite registry (holding one cluster and its events), with hostile
arguments: each run fails naming the field, writes no row (no subscriber, no delivery), and shows no secret."""

from __future__ import annotations

import pytest

from hostile_support import name_cases, refused_writing_nothing, registry_cases

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


@pytest.mark.parametrize("args, field", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_argument_fails_naming_the_field_and_writes_nothing(registry, sandbox, tmp_path, args, field):
    refused_writing_nothing("gpve_webhook", dict(dict(BASE, registry=registry), **args), tmp_path, field, registry, sandbox,
                            SECRET)
