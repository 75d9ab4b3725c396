"""gpve_cluster_phase run as Ansible runs it on a real SQLite registry holding a Running K8s-on-VM cluster, with
hostile arguments over a run that would move the phase and record an event: each run fails naming the field, writes
no row (no event, no transition, no status), no file, and shows no secret of its arguments."""

from __future__ import annotations

import pytest

from hostile_support import accepted_writing, name_cases, refused_writing_nothing, registry_cases

pytestmark = pytest.mark.roles

SECRET = "hunter2-phase"
BASE = {"name": "lab", "phase": "Upgrading", "only_from": ["Running"], "reason": "UpgradeStarted",
        "status_message": "upgrading", "version": "1.37.2", "event": {"reason": "StageStarted", "text": "upgrade starts"}}


def event(**fields):
    return {"event": dict(BASE["event"], **fields)}


# (id, arguments over BASE, field named); None removes an argument.
CASES = name_cases("name") + registry_cases(SECRET) + [
    ("name-upper", {"name": "LAB"}, "name"),
    ("name-list", {"name": ["lab"]}, "name"),
    ("phase-shell", {"phase": "Running; id"}, "phase"),
    ("phase-lower", {"phase": "upgrading"}, "phase"),
    ("phase-unicode", {"phase": "Upgr\u00e4ding"}, "phase"),
    ("phase-huge", {"phase": "P" * 5000}, "phase"),
    ("only-from-shell", {"only_from": ["$(id)"]}, "only_from[0]"),
    ("only-from-second-traversal", {"only_from": ["Running", "../Failed"]}, "only_from[1]"),
    ("only-from-comma-string", {"only_from": "Running,Bogus"}, "only_from[1]"),
    ("only-from-mapping", {"only_from": {"Running": 1}}, "only_from"),
    ("reason-shell", {"reason": "$(id)"}, "reason"),
    ("reason-empty", {"reason": ""}, "reason"),
    ("reason-lower", {"reason": "upgrade started"}, "reason"),
    ("reason-huge", {"reason": "R" * 100}, "reason"),
    ("reason-newline", {"reason": "Upgrade\nkind: Secret"}, "reason"),
    ("event-reason-shell", event(reason="a;rm -rf /"), "event.reason"),
    ("event-reason-traversal", event(reason="../StageStarted"), "event.reason"),
    ("event-reason-empty", event(reason=""), "event.reason"),
    ("event-reason-unicode", event(reason="St\u00e4ge"), "event.reason"),
    ("event-type-transition", event(type="Transition"), "event"),
    ("event-unknown-key", event(bogus=True), "event"),
    ("event-metadata-list", event(metadata=["a", "b"]), "event"),
    ("event-metadata-huge", event(metadata={"x": [["lol" * 40] * 100] * 100}), "event"),
    ("status-message-huge", {"status_message": "m" * (1100 * 1024)}, "status_message"),
    ("version-shell", {"version": "1.37.2; id"}, "version"),
    ("version-traversal", {"version": "../../etc"}, "version"),
    ("version-short", {"version": "1.37"}, "version"),
    ("version-other-digits", {"version": "1.37.\u0662"}, "version"),
    ("unknown-option", {"bogus": True}, "bogus"),
]


@pytest.mark.parametrize("args, field", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_argument_fails_naming_the_field_and_writes_nothing(k8s_vm_registry, sandbox, tmp_path, args, field):
    refused_writing_nothing("gpve_cluster_phase", dict(dict(BASE, registry=k8s_vm_registry), **args), tmp_path, field,
                            k8s_vm_registry, sandbox, SECRET)


def test_without_a_hostile_argument_the_run_moves_the_phase_and_records_the_event(k8s_vm_registry, sandbox, tmp_path):
    result = accepted_writing("gpve_cluster_phase", dict(BASE, registry=k8s_vm_registry), tmp_path, k8s_vm_registry, sandbox)
    assert result["changed"] and result["cluster"]["phase"] == "Upgrading" and result["cluster"]["version"] == "1.37.2"
