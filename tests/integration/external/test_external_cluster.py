"""gpve_external_cluster importing the testbed's cluster: by kubeconfig, by token, by certificate, by exec plugin;
bad token and unreachable endpoint leave nothing; rerun, refresh, check mode, disconnect."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import sys
import uuid
from pathlib import Path

import pytest
from kubernetes import client

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.as_a_user import ansible_cli
from tests.as_a_user.service_account import reader_token

pytestmark = pytest.mark.external


@pytest.fixture
def registry_path(tmp_path):
    return str(tmp_path / "registry.db")


@pytest.fixture(scope="module")
def token(testbed, kube_client):
    value, cleanup = reader_token(kube_client)
    yield value
    cleanup()


def external(registry_path, tmp_path, check_mode=False, **args):
    return ansible_cli.run_module("gpve_external_cluster", dict(args, registry=registry_path), tmp_path, check_mode=check_mode)


def what_the_api_says(kube_client):
    core = client.CoreV1Api(kube_client)
    nodes = core.list_node().items
    ready = sum(1 for node in nodes if any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or []))
    return {"node_count": len(nodes), "ready_nodes": ready, "pod_count": len(core.list_pod_for_all_namespaces().items),
            "namespaces": len(core.list_namespace().items), "version": client.VersionApi(kube_client).get_code().git_version}


def registered(registry_path, name):
    with open_registry(registry_path, environ={}) as store:
        return list(store.query_clusters(name=name, include_deleted=True))


def assert_discovered(cluster, kube_client, testbed):
    expected = what_the_api_says(kube_client)
    assert {key: cluster[key] for key in expected} == expected
    assert (cluster["type"], cluster["phase"], cluster["endpoint"]) == ("external", "Running", testbed.api_url)


def test_import_by_kubeconfig_path(testbed, kube_client, registry_path, tmp_path):
    result = external(registry_path, tmp_path, name="tb", kubeconfig=testbed.kubeconfig, labels={"env": "lab"}, provider="kubeadm")
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert_discovered(result["cluster"], kube_client, testbed)
    with open_registry(registry_path, environ={}) as store:
        cluster = store.get_cluster_by_name("tb")
        assert (cluster.provider, cluster.labels, cluster.status.phase) == ("kubeadm", {"env": "lab"}, "Running")
        assert cluster.spec["connection_config"]["auth_type"] == "certificate"
        transitions = [(e.metadata["from"], e.metadata["to"]) for e in reversed(store.list_events(cluster.id, type="Transition"))]
        assert transitions == [(None, "Pending"), ("Pending", "Connecting"), ("Connecting", "Running")]
        stored = store.get_credential(cluster.id, "kubeconfig")
        assert stored.info.expires_at is not None, "a client certificate's expiry is recorded"
        key_line = next(line for line in Path(testbed.kubeconfig).read_text().splitlines() if "client-key" in line)
    # Encrypted at rest: the key material is nowhere in the database file.
    with sqlite3.connect(registry_path) as raw:
        blobs = b"".join(bytes(row[0]) for row in raw.execute("SELECT data_encrypted FROM cluster_credentials"))
    assert key_line.split(":")[-1].strip().encode()[:40] not in blobs
    assert b"BEGIN" not in blobs and b"client-key" not in blobs
    assert stat.S_IMODE(os.stat(registry_path).st_mode) == 0o600

    again = external(registry_path, tmp_path, name="tb", kubeconfig=testbed.kubeconfig, labels={"env": "lab"}, provider="kubeadm")
    assert again["changed"] is False and again["cluster"]["phase"] == "Running"


def test_import_by_kubeconfig_content_and_context(testbed, kube_client, registry_path, tmp_path):
    text = Path(testbed.kubeconfig).read_text()
    context = json.loads(json.dumps(__import__("yaml").safe_load(text)))["current-context"]
    result = external(registry_path, tmp_path, name="tb-content", kubeconfig=text, context=context)
    assert not result.get("failed"), result.get("msg")
    assert_discovered(result["cluster"], kube_client, testbed)
    wrong = external(registry_path, tmp_path, name="tb-wrong", kubeconfig=text, context="nope")
    assert wrong["failed"] and "no context named 'nope'" in wrong["msg"]
    assert registered(registry_path, "tb-wrong") == []


def test_import_by_token(testbed, kube_client, token, registry_path, tmp_path):
    result = external(registry_path, tmp_path, name="tb-token", connection={
        "endpoint": testbed.api_url, "ca_cert": testbed.ca_path, "auth": {"type": "token", "token": token}})
    assert not result.get("failed"), result.get("msg")
    assert_discovered(result["cluster"], kube_client, testbed)
    assert token not in json.dumps(result)
    with open_registry(registry_path, environ={}) as store:
        cluster = store.get_cluster_by_name("tb-token")
        assert cluster.spec["connection_config"]["auth_type"] == "token"
        assert token in store.get_credential(cluster.id, "kubeconfig").text
    with sqlite3.connect(registry_path) as raw:
        assert not any(token.encode()[:32] in bytes(row[0]) for row in raw.execute("SELECT data_encrypted FROM cluster_credentials"))


def test_import_by_client_certificate(testbed, kube_client, registry_path, tmp_path):
    pki = Path(testbed.ca_path).parent
    result = external(registry_path, tmp_path, name="tb-cert", connection={
        "endpoint": testbed.api_url, "ca_cert": Path(testbed.ca_path).read_text(),
        "auth": {"type": "certificate", "client_cert": str(pki / "admin.crt"), "client_key": str(pki / "admin.key")}})
    assert not result.get("failed"), result.get("msg")
    assert_discovered(result["cluster"], kube_client, testbed)


def test_import_by_exec_plugin(testbed, kube_client, token, registry_path, tmp_path):
    plugin = tmp_path / "token-plugin.py"
    plugin.write_text("import json, os\nprint(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1beta1', "
                      "'kind': 'ExecCredential', 'status': {'token': os.environ['READER_TOKEN']}}))\n")
    result = external(registry_path, tmp_path, name="tb-exec", connection={
        "endpoint": testbed.api_url, "ca_cert": testbed.ca_path,
        "auth": {"type": "exec", "exec": {"command": sys.executable, "args": [str(plugin)], "env": {"READER_TOKEN": token}}}})
    assert not result.get("failed"), result.get("msg")
    assert_discovered(result["cluster"], kube_client, testbed)


def test_bad_token_fails_clearly_and_leaves_nothing(testbed, registry_path, tmp_path):
    result = external(registry_path, tmp_path, name="tb-bad", connection={
        "endpoint": testbed.api_url, "ca_cert": testbed.ca_path, "auth": {"type": "token", "token": "not-a-token-" + uuid.uuid4().hex}})
    assert result["failed"] is True
    assert f"the API server at {testbed.api_url} refused the credentials (401 Unauthorized)" in result["msg"]
    assert result["reason"] == "Unauthorized"
    assert registered(registry_path, "tb-bad") == []


def test_unreachable_endpoint_fails_clearly_and_leaves_nothing(testbed, registry_path, tmp_path):
    result = external(registry_path, tmp_path, name="tb-gone", timeout=3, connection={
        "endpoint": "https://127.0.0.1:9", "ca_cert": testbed.ca_path, "auth": {"type": "token", "token": "whatever"}})
    assert result["failed"] is True
    assert "cannot reach the API server at https://127.0.0.1:9" in result["msg"] and "Connection refused" in result["msg"]
    assert result["reason"] == "Unreachable"
    assert registered(registry_path, "tb-gone") == []


def test_check_mode_discovers_but_writes_nothing(testbed, kube_client, registry_path, tmp_path):
    result = external(registry_path, tmp_path, check_mode=True, name="tb-check", kubeconfig=testbed.kubeconfig)
    assert result["changed"] is True and result["cluster"]["id"] is None
    assert result["cluster"]["node_count"] == what_the_api_says(kube_client)["node_count"]
    assert registered(registry_path, "tb-check") == []


def test_refresh_rediscovers(testbed, kube_client, registry_path, tmp_path):
    first = external(registry_path, tmp_path, name="tb-refresh", kubeconfig=testbed.kubeconfig)["cluster"]
    core = client.CoreV1Api(kube_client)
    namespace = f"refresh-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": namespace}})
    try:
        refreshed = external(registry_path, tmp_path, name="tb-refresh", kubeconfig=testbed.kubeconfig, refresh=True)
        assert refreshed["changed"] is True
        assert refreshed["cluster"]["namespaces"] == what_the_api_says(kube_client)["namespaces"] >= first["namespaces"] + 1
    finally:
        core.delete_namespace(namespace)
    with open_registry(registry_path, environ={}) as store:
        cluster = store.get_cluster_by_name("tb-refresh")
        assert [e.reason for e in store.list_events(cluster.id, type="Normal")][0] == "Rediscovered"


def test_refresh_of_a_cluster_that_stopped_answering_marks_it_failed(testbed, registry_path, tmp_path, token):
    connection = {"endpoint": testbed.api_url, "ca_cert": testbed.ca_path, "auth": {"type": "token", "token": token}}
    assert external(registry_path, tmp_path, name="tb-fail", connection=connection)["cluster"]["phase"] == "Running"
    with open_registry(registry_path, environ={}) as store:
        cluster = store.get_cluster_by_name("tb-fail")
        stored = store.get_credential(cluster.id, "kubeconfig").text
        store.put_credential(cluster.id, "kubeconfig", stored.replace(token, "revoked-token"))
    revoked = dict(connection, auth={"type": "token", "token": "revoked-token"})
    result = external(registry_path, tmp_path, name="tb-fail", connection=revoked, refresh=True)
    assert result["failed"] is True and "401 Unauthorized" in result["msg"]
    with open_registry(registry_path, environ={}) as store:
        status = store.get_cluster_by_name("tb-fail").status
        assert status.phase == "Failed" and "401 Unauthorized" in status.message
    recovered = external(registry_path, tmp_path, name="tb-fail", connection=connection)
    assert recovered["changed"] is True and recovered["cluster"]["phase"] == "Running"


def test_absent_forgets_credentials_and_keeps_history(testbed, registry_path, tmp_path):
    imported = external(registry_path, tmp_path, name="tb-bye", kubeconfig=testbed.kubeconfig)["cluster"]
    gone = external(registry_path, tmp_path, name="tb-bye", state="absent")
    assert gone["changed"] is True and gone["cluster"]["phase"] == "Deleted"
    with open_registry(registry_path, environ={}) as store:
        assert store.find_cluster("tb-bye") is None
        assert store.list_credentials(cluster_id=imported["id"]) == []
        transitions = [e.metadata["to"] for e in reversed(store.list_events(imported["id"], type="Transition"))]
        assert transitions[-2:] == ["Deleting", "Deleted"]
        assert any(entry.action == "delete" and entry.entity == "credential" for entry in store.list_audit(cluster_id=imported["id"]))
    assert external(registry_path, tmp_path, name="tb-bye", state="absent")["changed"] is False
