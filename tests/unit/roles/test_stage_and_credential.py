"""Stage events, phase moves and credentials (playbook_support.stage, .credential; the etcd-client document of
health.etcd_client) on a real SQLite registry."""

from __future__ import annotations

import dataclasses
import json
import os
import stat

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.health import etcd_client, http_probe, runner
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds, stored_specs
from ansible_collections.gpve.cluster.plugins.module_utils.planner import spec as specs
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support import cluster_view, credential, stage
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support.errors import ClusterNotFound
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry

pytestmark = pytest.mark.roles

KUBECONFIG = """apiVersion: v1
kind: Config
current-context: admin@demo
clusters: [{name: demo, cluster: {server: "https://10.20.0.5:6443", certificate-authority-data: "Zm9v"}}]
contexts: [{name: admin@demo, context: {cluster: demo, user: admin}}]
users: [{name: admin, user: {token: secret-admin-token}}]
"""


@pytest.fixture
def store(tmp_path):
    with open_registry(str(tmp_path / "registry.db"), actor="unit") as opened:
        spec = specs.normalise({"name": "demo", "workers": [{"name": "general", "replicas": 1}]})
        cluster = opened.create_cluster("demo", "k8s-vm", spec=stored_specs.to_stored(kinds.K8S_VM, spec))
        for phase in (lifecycle.PROVISIONING, lifecycle.BOOTSTRAPPING):
            lifecycle.transition(opened, cluster.id, phase, "Test")
        yield opened


def test_read_gives_the_spec_in_gpve_k8s_vm_option_form(store):
    view = cluster_view.read(store, "demo")
    assert view["cluster"]["phase"] == "Bootstrapping"
    assert view["spec"]["distribution"]["type"] == "kubeadm" and view["spec"]["network"]["pod_cidr"] == "10.244.0.0/16"
    assert view["spec"]["workers"][0]["replicas"] == 1
    with pytest.raises(ClusterNotFound):
        cluster_view.read(store, "nope")


def test_only_from_moves_the_phase_or_leaves_it(store):
    moved = stage.apply(store, stage.StageRequest(name="demo", phase="Installing", only_from=["Bootstrapping"],
                                                  event={"reason": "StageStarted", "metadata": {"stage": "cni"}}))
    assert moved["phase_changed"] and moved["cluster"]["phase"] == "Installing"
    again = stage.apply(store, stage.StageRequest(name="demo", phase="Installing", only_from=["Bootstrapping"]))
    assert not again["changed"]
    skipped = stage.apply(store, stage.StageRequest(name="demo", phase="Bootstrapping", only_from=["Running"]))
    assert not skipped["changed"] and skipped["cluster"]["phase"] == "Installing"
    events = store.list_events(cluster_id=store.find_cluster("demo").id, limit=5)
    assert events[0].type == "Transition" and events[1].reason == "StageStarted" and events[1].metadata == {"stage": "cni"}


def test_a_move_the_table_forbids_fails_before_any_write(store):
    cluster_id = store.find_cluster("demo").id
    before = len(store.list_events(cluster_id=cluster_id, limit=100))
    with pytest.raises(lifecycle.InvalidTransition):
        stage.apply(store, stage.StageRequest(name="demo", phase="Upgrading", event={"reason": "StageStarted"}))
    assert len(store.list_events(cluster_id=cluster_id, limit=100)) == before


def test_check_mode_writes_nothing(store):
    cluster_id = store.find_cluster("demo").id
    before = len(store.list_events(cluster_id=cluster_id, limit=100))
    result = stage.apply(store, stage.StageRequest(name="demo", phase="Installing", event={"reason": "X"}, check_mode=True))
    assert result["changed"] and result["cluster"]["phase"] == "Installing"
    assert store.get_status(cluster_id).phase == "Bootstrapping"
    assert len(store.list_events(cluster_id=cluster_id, limit=100)) == before


def test_bad_events_and_status_fields_are_refused(store):
    with pytest.raises(ValidationError):
        stage.apply(store, stage.StageRequest(name="demo", event={"type": "Info", "reason": "X"}))
    with pytest.raises(ValidationError):
        stage.apply(store, stage.StageRequest(name="demo", status={"phase": "Running"}))


def test_kubeconfig_is_stored_encrypted_exported_0600_and_kept(store, tmp_path):
    stored = credential.apply(store, credential.CredentialRequest(name="demo", content=KUBECONFIG))
    assert stored["changed"] and "content" not in stored
    assert not credential.apply(store, credential.CredentialRequest(name="demo", content=KUBECONFIG))["changed"]
    with open(store.location, "rb") as database:
        assert b"secret-admin-token" not in database.read()
    dest = tmp_path / "out" / "admin.conf"
    exported = credential.apply(store, credential.CredentialRequest(name="demo", state="exported", dest=str(dest)))
    assert exported["changed"] and dest.read_text() == KUBECONFIG and stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    assert not credential.apply(store, credential.CredentialRequest(name="demo", state="exported", dest=str(dest)))["changed"]
    with pytest.raises(Exception, match="not a kubeconfig|kubeconfig"):
        credential.apply(store, credential.CredentialRequest(name="demo", content="just text"))


def test_a_join_token_made_once_is_kept(store):
    first = credential.apply(store, credential.CredentialRequest(name="demo", type="join-token", content="one", overwrite=False))
    second = credential.apply(store, credential.CredentialRequest(name="demo", type="join-token", content="two", overwrite=False))
    assert first["changed"] and not second["changed"]
    read = credential.apply(store, credential.CredentialRequest(name="demo", type="join-token", state="exported",
                                                                return_content=True))
    assert read["content"] == "one"
    gone = credential.apply(store, credential.CredentialRequest(name="demo", type="join-token", state="absent"))
    assert gone["changed"]


PEM_CERT = "-----BEGIN CERTIFICATE-----\nTUlJQg==\n-----END CERTIFICATE-----\n"
PEM_KEY = "-----BEGIN RSA PRIVATE KEY-----\nTUlJRQ==\n-----END RSA PRIVATE KEY-----\n"


def _etcd_client(**fields):
    return json.dumps(dict({"cert": PEM_CERT.replace("TUlJQg", "Y2VydA"), "key": PEM_KEY, "ca": PEM_CERT}, **fields), indent=2)


def test_an_etcd_client_credential_is_stored_canonical_encrypted_and_kept(store):
    request = credential.CredentialRequest(name="demo", type=kinds.ETCD_CLIENT, content=_etcd_client())
    assert credential.apply(store, dataclasses.replace(request, check_mode=True))["changed"]
    assert store.list_credentials(cluster_id=store.find_cluster("demo").id) == []
    assert credential.apply(store, request)["changed"]
    # The same three PEMs in another layout (as a playbook's to_json writes them) change nothing.
    same = json.dumps(json.loads(_etcd_client()))
    assert not credential.apply(store, dataclasses.replace(request, content=same))["changed"]
    read = credential.apply(store, credential.CredentialRequest(name="demo", type=kinds.ETCD_CLIENT, state="exported",
                                                                return_content=True))
    assert read["content"] == etcd_client.dump(json.loads(_etcd_client()))
    tls = runner._etcd_tls(read["content"], http_probe.TlsMaterial("the cluster CA", validate=False))  # pylint: disable=protected-access
    assert (tls.ca_pem, tls.cert_pem, tls.key_pem, tls.validate) == (PEM_CERT, json.loads(_etcd_client())["cert"], PEM_KEY, False)
    with open(store.location, "rb") as database:
        assert b"RSA PRIVATE KEY" not in database.read()
    renewed = dataclasses.replace(request, content=_etcd_client(cert=PEM_CERT.replace("TUlJQg", "bmV3")))
    assert credential.apply(store, renewed)["changed"]


@pytest.mark.parametrize("content, named", [
    ("not json", "no JSON"), ("[1, 2]", "JSON object"), (_etcd_client(key=PEM_CERT), "key must be a PEM private key"),
    (_etcd_client(ca=""), "ca must be a PEM certificate"), (_etcd_client(extra="x"), "not extra"),
    (json.dumps({"cert": PEM_CERT, "key": PEM_KEY}), "ca must be"),
])
def test_a_document_that_is_no_etcd_client_is_refused_before_any_write(store, content, named):
    with pytest.raises(ValidationError, match=named) as refused:
        credential.apply(store, credential.CredentialRequest(name="demo", type=kinds.ETCD_CLIENT, content=content))
    assert "TUlJ" not in str(refused.value)
    assert store.list_credentials(cluster_id=store.find_cluster("demo").id) == []
