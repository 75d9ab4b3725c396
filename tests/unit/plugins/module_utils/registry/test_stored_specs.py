"""The one spec-to-row rule per cluster type, and find_cluster's type refusal, over a real SQLite registry."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.planner import spec as k8s_specs
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds, open_registry, stored_specs

pytestmark = pytest.mark.registry


@pytest.fixture
def store(tmp_path):
    with open_registry(str(tmp_path / "registry.db"), actor="unit", environ={}) as opened:
        yield opened


def test_a_k8s_vm_spec_keeps_name_and_labels_on_the_row_and_reads_back_whole(store):
    spec = k8s_specs.normalise({"name": "alpha", "labels": {"team": "a"}, "distribution": {"type": "k3s"}})
    stored = stored_specs.to_stored(kinds.K8S_VM, spec)
    assert "name" not in stored and "labels" not in stored and stored["distribution"] == "k3s"
    cluster = store.create_cluster("alpha", kinds.K8S_VM, spec=stored, labels=spec["labels"])
    assert k8s_specs.normalise(stored_specs.spec_of(store.get_cluster(cluster.id))) == spec


def test_a_k8s_vm_spec_stored_in_the_older_form_reads_back_the_same(store):
    spec = k8s_specs.normalise({"name": "beta", "labels": {"team": "b"}, "distribution": {"type": "kubeadm"}})
    older = dict(stored_specs.to_stored(kinds.K8S_VM, spec), name="beta", labels={"team": "b"})
    cluster = store.create_cluster("beta", kinds.K8S_VM, spec=older, labels={"team": "b"})
    assert k8s_specs.normalise(stored_specs.spec_of(store.get_cluster(cluster.id))) == spec


def test_a_vcluster_spec_renames_sync_and_takes_the_row_fields_back():
    spec = {"name": "v", "labels": {"a": "1"}, "annotations": {"n": "x"}, "sync": {"to_host": {}}, "namespace": "vc-v"}
    stored = stored_specs.to_stored(kinds.VCLUSTER, spec)
    assert stored == {"sync_config": {"to_host": {}}, "namespace": "vc-v"}
    assert stored_specs.from_stored(kinds.VCLUSTER, stored) == {"sync": {"to_host": {}}, "namespace": "vc-v"}


def test_find_cluster_refuses_a_name_another_type_holds(store):
    store.create_cluster("shared", kinds.EXTERNAL, spec={"endpoint": "https://10.0.0.1:6443"})
    assert store.find_cluster("shared").type == kinds.EXTERNAL
    assert store.find_cluster("shared", type=kinds.EXTERNAL).name == "shared"
    assert store.find_cluster("nobody", type=kinds.K8S_VM) is None
    with pytest.raises(ValidationError) as caught:
        store.find_cluster("shared", type=kinds.VCLUSTER)
    assert caught.value.field == "name" and "external cluster named 'shared'" in str(caught.value)
