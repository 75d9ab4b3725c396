"""Stage events, phase moves and credentials (playbook_support.stage, .credential) on a real SQLite registry."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
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
