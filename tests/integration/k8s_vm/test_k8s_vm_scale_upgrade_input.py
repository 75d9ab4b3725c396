"""scale.yml and upgrade.yml refuse bad input before any write, naming the extra var and the fix. The cluster is a
Running K8s-on-VM row of a real SQLite registry; the refusals come before Proxmox or the cluster's API server would be
asked, so neither is needed (a refusal that asked one would fail on the missing connection, not with its message).
The last test lets upgrade.yml reach its first node, an address nothing answers on: the stage fails there, named."""

from __future__ import annotations

import pytest
from k8s_vm_support import REPO, registry_for, spec

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.planner import spec as specs
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds, stored_specs
from tests.playbook_run import ansible_env, run_playbook

pytestmark = pytest.mark.k8s_vm

PLAYBOOKS = REPO / "playbooks" / "k8s_vm"
NAME = "input"


@pytest.fixture
def cluster(tmp_path):
    """A Running 3-control-plane cluster at 1.35.4 with pools general (2) and storage (1); (registry path, id)."""
    path = str(tmp_path / "registry.db")
    normalised = specs.normalise(spec(NAME, kubernetes_version="1.35.4"))
    with registry_for(path) as store:
        row = store.create_cluster(NAME, kinds.K8S_VM, spec=stored_specs.to_stored(kinds.K8S_VM, normalised))
        nodes = [{"name": f"{NAME}-cp-{i}", "role": "control-plane", "status": "Running", "ip_address": f"10.20.0.1{i}"}
                 for i in (1, 2, 3)]
        nodes += [{"name": f"{NAME}-general-{i}", "role": "worker", "pool_name": "general", "status": "Running",
                   "ip_address": f"10.20.0.2{i}"} for i in (1, 2)]
        nodes.append({"name": f"{NAME}-storage-1", "role": "worker", "pool_name": "storage", "status": "Running",
                      "ip_address": "10.20.0.31"})
        store.upsert_nodes(row.id, nodes)
        store.update_status(row.id, endpoint="https://10.20.0.5:6443", version="1.35.4")
        for phase in (lifecycle.PROVISIONING, lifecycle.BOOTSTRAPPING, lifecycle.INSTALLING, lifecycle.RUNNING):
            lifecycle.transition(store, row.id, phase, "Test")
        return path, row.id


def play(tmp_path, registry, playbook, **extra_vars):
    env = ansible_env({"GPVE_REGISTRY": registry, "GPVE_PROXMOX_API_URL": "https://127.0.0.1:9/"})
    log = tmp_path / f"{playbook}-{len(list(tmp_path.glob('*.log')))}.log"
    return run_playbook(PLAYBOOKS / f"{playbook}.yml", dict(gpve_cluster_name=NAME, gpve_work_dir=str(tmp_path / "work"),
                                                            **extra_vars), env, log, timeout=300)


def untouched(registry, cluster_id, events_before):
    with registry_for(registry) as store:
        found = store.get_cluster(cluster_id)
        assert found.status.phase == "Running" and found.status.version in (None, "1.35.4")
        assert len(store.list_events(cluster_id)) == events_before


def events_of(registry, cluster_id):
    with registry_for(registry) as store:
        return len(store.list_events(cluster_id))


@pytest.mark.parametrize("extra, words", [
    ({"gpve_worker_replicas": {"gpu": 2}},
     "gpve_worker_replicas: input has no worker pool gpu; name one of its pools (general, storage)"),
    ({"gpve_worker_replicas": {"general": 1, "gpu": 2, "edge": 1}}, "has no worker pool gpu, edge"),
    ({"gpve_control_plane_replicas": 4},
     "gpve_control_plane_replicas: 4 control planes with stacked etcd cannot keep quorum through a failure; give an "
     "odd count (3 or 5)"),
    ({"gpve_control_plane_replicas": 2}, "give an odd count (1 or 3)"),
    ({"gpve_worker_replicas": {"general": "three"}}, "gpve_worker_replicas ({\"general\": \"three\"}) needs a whole number"),
    ({"gpve_worker_replicas": {"general": -1}}, "needs a whole number of 0 or more per pool"),
    ({"gpve_control_plane_replicas": "0"}, "gpve_control_plane_replicas (0) a whole number of 1 or more"),
])
def test_scale_refuses_bad_input_before_any_write(tmp_path, cluster, extra, words):
    registry, cluster_id = cluster
    before = events_of(registry, cluster_id)
    result = play(tmp_path, registry, "scale", **extra)
    assert result.returncode != 0 and words in " ".join(result.stdout.split()), result.stdout[-3000:]
    untouched(registry, cluster_id, before)


@pytest.mark.parametrize("target, words", [
    ("1.37.2", "target_version: Kubernetes upgrades go one minor version at a time: from 1.35.4 upgrade to 1.36.x "
               "first, then on to 1.37.2"),
    ("1.38.0", "target_version: kubeadm 1.38.0 is not supported; supported: 1.35.0 to 1.37.x"),
    ("1.34.9", "kubeadm 1.34.9 is not supported"),
    ("1.35.1", "target_version: downgrades are not supported (1.35.1 is below the running 1.35.4)"),
    ("2.0.0", "is not supported"),
    ("1.37", "target_version: '1.37' is not a MAJOR.MINOR.PATCH version"),
])
def test_upgrade_refuses_bad_targets_before_any_write(tmp_path, cluster, target, words):
    registry, cluster_id = cluster
    before = events_of(registry, cluster_id)
    result = play(tmp_path, registry, "upgrade", gpve_target_version=target)
    assert result.returncode != 0 and words in " ".join(result.stdout.split()), result.stdout[-3000:]
    untouched(registry, cluster_id, before)


def test_an_upgrade_stops_at_a_node_that_does_not_answer_naming_it(tmp_path, cluster):
    """The first control plane's address answers nothing (TEST-NET-1, never routed): its turn fails at 'Check that the
    node answers', inside the stage, so the cluster goes Failed naming the node, the stage and the task."""
    registry, cluster_id = cluster
    with registry_for(registry) as store:
        store.upsert_nodes(cluster_id, [{"name": f"{NAME}-cp-1", "role": "control-plane", "status": "Running",
                                         "ip_address": "192.0.2.11"}])
        store.put_credential(cluster_id, kinds.KUBECONFIG, "apiVersion: v1\nkind: Config\nclusters: []\n")
    result = play(tmp_path, registry, "upgrade", gpve_target_version="1.36.2", gpve_stage_connect_timeout=3)
    output = " ".join(result.stdout.split())
    assert result.returncode != 0, result.stdout[-3000:]
    assert "UNREACHABLE" not in result.stdout.split("TASK [Record the failure]")[0].split("Check that the node answers")[-1]
    assert f"stage upgrade failed on {NAME}-cp-1 at 'Check that the node answers'" in output, result.stdout[-3000:]
    with registry_for(registry) as store:
        found = store.get_cluster(cluster_id)
        assert found.status.phase == "Failed"
        assert found.status.message.startswith(f"stage upgrade failed on {NAME}-cp-1: ")
        failed = [e for e in store.list_events(cluster_id) if e.reason == "StageFailed" and e.type == "Warning"]
    assert [(e.metadata["stage"], e.metadata["host"], e.metadata["task"]) for e in failed] == [
        ("upgrade", f"{NAME}-cp-1", "Check that the node answers")]
