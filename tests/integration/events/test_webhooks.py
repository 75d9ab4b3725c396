"""Webhooks against a local receiver that verifies signatures on its own and refuses replays."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.as_a_user import ansible_cli
from tests.as_a_user.receiver import Receiver

pytestmark = pytest.mark.registry

SECRET = "s3cret-for-webhooks"


@pytest.fixture
def receiver():
    listening = Receiver(SECRET)
    yield listening
    listening.close()


@pytest.fixture
def registry_path(tmp_path):
    return str(tmp_path / "registry.db")


def webhook(registry_path, tmp_path, check_mode=False, **args):
    result = ansible_cli.run_module("gpve_webhook", dict(args, registry=registry_path), tmp_path, check_mode=check_mode)
    assert not result.get("failed"), result.get("msg")
    return result


def make_cluster(registry_path, name="wh-ext"):
    with open_registry(registry_path, actor="webhook-tests", environ={}) as store:
        cluster = store.create_cluster(name, "external", spec={"endpoint": "https://10.0.0.1:6443"})
        lifecycle.transition(store, cluster.id, "Connecting", "ImportStarted", "connecting")
        lifecycle.transition(store, cluster.id, "Running", "Imported", "connected")
        store.add_event(cluster.id, "Normal", "Rediscovered", "rediscovered", {"nodes": 3})
        return cluster.id


def attempts(registry_path, name):
    with open_registry(registry_path, environ={}) as store:
        return list(reversed(store.list_deliveries(store.get_subscriber(name).id)))


def test_deliveries_are_signed_filtered_recorded_and_replays_refused(receiver, registry_path, tmp_path):
    created = webhook(registry_path, tmp_path, name="hooks", url=receiver.url, secret=SECRET,
                      event_types=["cluster.created", "cluster.status.changed"])
    assert created["changed"] is True and "secret" not in json.dumps(created["subscriber"])
    assert SECRET not in json.dumps(created)
    cluster_id = make_cluster(registry_path)

    sent = webhook(registry_path, tmp_path, state="delivered")
    kinds = [(d["event_type"], d["outcome"], d["attempts"]) for d in sent["deliveries"]]
    assert kinds == [("cluster.created", "delivered", 1), ("cluster.status.changed", "delivered", 1),
                     ("cluster.status.changed", "delivered", 1)], "cluster.event (Rediscovered) was not asked for"
    assert [status for status, _headers, _body in receiver.received] == [200, 200, 200]
    first = receiver.accepted[0]
    assert (first["type"], first["clusterId"], first["clusterName"], first["clusterType"], first["source"]) == (
        "cluster.created", cluster_id, "wh-ext", "external", "gpve.cluster")
    assert receiver.accepted[2]["data"]["metadata"] == {"from": "Connecting", "to": "Running", "trigger": "Imported"}
    _status, headers, body = receiver.received[1]
    assert headers["X-GPVE-Event"] == "cluster.status.changed" and headers["Content-Type"] == "application/json"

    # Replays are refused: the same delivery again, a tampered body, a correctly signed but stale one.
    assert receiver.send(headers, body) == 409
    assert receiver.send(headers, body.replace(b"Connecting", b"Deleting")) == 401
    stale = str(int(time.time()) - 3600)
    resigned = "sha256=" + hmac.new(SECRET.encode(), f"{headers['X-GPVE-Delivery']}-x.{stale}.".encode() + body,
                                    hashlib.sha256).hexdigest()
    forged = dict(headers.items())
    forged.update({"X-GPVE-Delivery": headers["X-GPVE-Delivery"] + "-x", "X-GPVE-Timestamp": stale, "X-GPVE-Signature": resigned})
    assert receiver.send({key.title(): value for key, value in forged.items()}, body) == 400

    recorded = attempts(registry_path, "hooks")
    assert [(r["event_type"], r["attempt"], r["status_code"], r["outcome"]) for r in recorded] == [
        ("cluster.created", 1, 200, "delivered"), ("cluster.status.changed", 1, 200, "delivered"),
        ("cluster.status.changed", 1, 200, "delivered")]
    assert webhook(registry_path, tmp_path, state="delivered")["changed"] is False, "nothing is delivered twice"


def test_retries_with_backoff_then_delivered(receiver, registry_path, tmp_path):
    webhook(registry_path, tmp_path, name="flaky", url=receiver.url, secret=SECRET, retry_delay=0.05, max_attempts=4)
    make_cluster(registry_path)
    receiver.fail_next = 2
    sent = webhook(registry_path, tmp_path, name="flaky", state="delivered")
    assert sent["deliveries"][0]["outcome"] == "delivered" and sent["deliveries"][0]["attempts"] == 3
    tries = [r for r in attempts(registry_path, "flaky") if r["id"] == sent["deliveries"][0]["delivery_id"]]
    expected = [(1, 503, "retrying"), (2, 503, "retrying"), (3, 200, "delivered")]
    assert [(r["attempt"], r["status_code"], r["outcome"]) for r in tries] == expected
    retried = [headers["X-GPVE-Delivery"] for _status, headers, _body in receiver.received[:3]]
    assert len(set(retried)) == 1, "every retry of one delivery carries its id"


def test_unreachable_receiver_gives_up_and_says_so(registry_path, tmp_path):
    gone = Receiver(SECRET)
    url = gone.url
    gone.close()
    webhook(registry_path, tmp_path, name="gone", url=url, secret=SECRET, retry_delay=0.01, max_attempts=2,
            event_types=["cluster.created"])
    make_cluster(registry_path)
    sent = webhook(registry_path, tmp_path, state="delivered")
    assert [(d["outcome"], d["attempts"], d["status_code"]) for d in sent["deliveries"]] == [("gave_up", 2, None)]
    outcomes = [(r["attempt"], r["outcome"]) for r in attempts(registry_path, "gone")]
    assert outcomes == [(1, "retrying"), (2, "gave_up")]
    assert "refused" in attempts(registry_path, "gone")[0]["error"].lower()


def test_modules_deliver_the_events_they_write(receiver, registry_path, tmp_path):
    webhook(registry_path, tmp_path, name="health", url=receiver.url, secret=SECRET, event_types=["cluster.health.*"])
    make_cluster(registry_path, "no-creds")
    info = ansible_cli.run_module("gpve_cluster_info", dict(registry=registry_path, health=True, update_registry=True), tmp_path)
    assert not info.get("failed"), info.get("msg")
    assert [event["type"] for event in receiver.accepted] == ["cluster.health.changed"]
    assert receiver.accepted[0]["data"]["metadata"]["to"] == "unknown"


def test_subscriber_lifecycle_is_idempotent(receiver, registry_path, tmp_path):
    args = dict(name="life", url=receiver.url, secret=SECRET, event_types=["cluster.*"])
    assert webhook(registry_path, tmp_path, check_mode=True, **args)["changed"] is True
    assert webhook(registry_path, tmp_path, **args)["changed"] is True
    assert webhook(registry_path, tmp_path, **args)["changed"] is False
    rotated = dict(args)
    rotated["secret"] = "rotated"
    assert webhook(registry_path, tmp_path, **rotated)["changed"] is True
    rotated["enabled"] = False
    assert webhook(registry_path, tmp_path, **rotated)["subscriber"]["enabled"] is False
    with open_registry(registry_path, environ={}) as store:
        assert store.subscriber_secret(store.get_subscriber("life")) == "rotated"
        audited = [(a.action, a.entity) for a in store.list_audit(entity="webhook_subscriber")]
        assert audited[-1] == ("create", "webhook_subscriber") and ("update", "webhook_subscriber") in audited
    with open(registry_path, "rb") as raw:
        assert b"rotated" not in raw.read()
    assert webhook(registry_path, tmp_path, name="life", state="absent")["changed"] is True
    assert webhook(registry_path, tmp_path, name="life", state="absent")["changed"] is False


def test_secrets_follow_a_key_rotation(registry_path, tmp_path):
    old_key, new_key = base64.b64encode(os.urandom(32)).decode(), base64.b64encode(os.urandom(32)).decode()
    with open_registry(registry_path, encryption_key=old_key, environ={}) as store:
        store.create_subscriber("rotating", "https://hooks.example.com/x", "the-secret", ["*"])
    with open_registry(registry_path, encryption_key=new_key, retired_keys=[old_key], environ={}) as store:
        assert store.rotate_subscriber_secrets() == 1
        assert store.rotate_subscriber_secrets() == 0
    with open_registry(registry_path, encryption_key=new_key, environ={}) as store:
        assert store.subscriber_secret(store.get_subscriber("rotating")) == "the-secret"
