"""gpve.cluster.gpve_registry run as Ansible runs it, on both backends."""

from __future__ import annotations

import os

import pytest
from registry_helpers import new_key

from ansible_collections.gpve.cluster.plugins.module_utils.registry import schema
from tests.as_a_user.ansible_cli import run_module

pytestmark = pytest.mark.registry


def registry_module(args, tmp_path, check_mode=False):
    return run_module("gpve_registry", args, tmp_path, check_mode=check_mode, diff=True)


def test_check_mode_creates_nothing_then_a_run_creates_and_a_rerun_is_unchanged(location, backend, tmp_path):
    planned = registry_module({"registry": location, "encryption_key": new_key()}, tmp_path, check_mode=True)
    assert planned["changed"] is True
    assert planned["registry"]["schema_version"] == schema.LATEST_VERSION
    assert planned["diff"]["after"] == {"schema_version": schema.LATEST_VERSION}
    if backend == "sqlite":
        assert planned["registry"]["previous_schema_version"] is None
        assert not os.path.exists(location)
    else:
        assert planned["registry"]["previous_schema_version"] == 0

    created = registry_module({"registry": location, "encryption_key": new_key()}, tmp_path)
    assert created["changed"] is True
    assert created["registry"]["schema_version"] == schema.LATEST_VERSION

    again = registry_module({"registry": location, "encryption_key": new_key()}, tmp_path)
    assert again["changed"] is False
    assert again["registry"]["previous_schema_version"] == schema.LATEST_VERSION


def test_rotation_rewraps_every_credential_once_and_check_mode_only_counts(open_store, location, encryption_key, tmp_path):
    store = open_store()
    for index in range(3):
        cluster = store.create_cluster(f"rot-{index}", "external", spec={"endpoint": "https://127.0.0.1:6443"})
        store.put_credential(cluster.id, "token", f"secret-{index}")
    store.create_subscriber("ops", "https://127.0.0.1:9/hook", "hook-secret", ["*"])
    store.close()
    new = new_key()
    args = {"registry": location, "encryption_key": new, "retired_keys": [encryption_key], "rotate_credentials": True}

    planned = registry_module(args, tmp_path, check_mode=True)
    assert planned["changed"] is True
    assert planned["rotation"]["rewrapped"] == 3
    assert planned["rotation"]["webhook_secrets_rewrapped"] == 1
    old_key_ids = {credential.key_id for credential in open_store().list_credentials()}
    assert len(old_key_ids) == 1 and planned["rotation"]["key_id"] not in old_key_ids

    rotated = registry_module(args, tmp_path)
    assert rotated["changed"] is True
    assert rotated["rotation"] == {"key_id": planned["rotation"]["key_id"], "rewrapped": 3, "already_current": 0,
                                   "webhook_secrets_rewrapped": 1}
    assert new not in str(rotated) and encryption_key not in str(rotated)

    again = registry_module(args, tmp_path)
    assert again["changed"] is False
    assert again["rotation"]["rewrapped"] == 0 and again["rotation"]["already_current"] == 3
    assert again["rotation"]["webhook_secrets_rewrapped"] == 0

    only_new_key = open_store(encryption_key=new, retired_keys=None)
    assert sorted(only_new_key.get_credential(c.cluster_id, "token").text for c in only_new_key.list_credentials()) == \
        ["secret-0", "secret-1", "secret-2"]
    assert only_new_key.subscriber_secret(only_new_key.get_subscriber("ops")) == "hook-secret"


def test_a_credential_no_key_opens_aborts_the_rotation_and_names_its_key(open_store, location, encryption_key, tmp_path):
    store = open_store()
    cluster = store.create_cluster("lost-key", "external", spec={"endpoint": "https://127.0.0.1:6443"})
    store.put_credential(cluster.id, "token", "secret")
    old_key_id = store.list_credentials()[0].key_id
    store.close()

    failed = registry_module({"registry": location, "encryption_key": new_key(), "rotate_credentials": True}, tmp_path)
    assert failed["failed"] is True
    assert old_key_id in failed["msg"]
    assert open_store().list_credentials()[0].key_id == old_key_id
