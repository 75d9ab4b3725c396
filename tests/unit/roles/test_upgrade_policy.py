"""Version skew policy and upgrade order (playbook_support.upgrade_policy) over a real SQLite registry."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds, stored_specs
from ansible_collections.gpve.cluster.plugins.module_utils.planner import spec as specs, versions
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support import upgrade_policy
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support.errors import UpgradeRefused
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry

pytestmark = pytest.mark.roles


@pytest.fixture
def store(tmp_path):
    with open_registry(str(tmp_path / "registry.db"), actor="unit") as opened:
        yield opened


def register(store, name="up", distribution="kubeadm", version="1.35.9", workers=5, phase=lifecycle.RUNNING):
    spec = specs.normalise({"name": name, "distribution": {"type": distribution}, "kubernetes_version": version,
                            "workers": [{"name": "general", "replicas": workers}]})
    cluster = store.create_cluster(name, "k8s-vm", spec=stored_specs.to_stored(kinds.K8S_VM, spec))
    nodes = [{"name": f"{name}-cp-{i}", "role": "control-plane", "status": "Running"} for i in (3, 1, 2)]
    nodes += [{"name": f"{name}-general-{i}", "role": "worker", "pool_name": "general", "status": "Running"}
              for i in range(workers, 0, -1)]
    nodes.append({"name": f"{name}-lb", "role": "lb", "status": "Running"})
    store.upsert_nodes(cluster.id, nodes)
    for step in (lifecycle.PROVISIONING, lifecycle.BOOTSTRAPPING, lifecycle.INSTALLING, lifecycle.RUNNING):
        if step == phase:
            lifecycle.transition(store, cluster.id, step, "Test")
            break
        lifecycle.transition(store, cluster.id, step, "Test")
    return cluster


@pytest.mark.parametrize("current, target", [("1.35.9", "1.36.0"), ("1.35.9", "1.35.10"), ("1.36.4", "1.36.4")])
def test_one_minor_version_at_a_time_passes(current, target):
    upgrade_policy.check_skew(current, target)


@pytest.mark.parametrize("current, target, words", [
    ("1.35.9", "1.37.0", "from 1.35.9 upgrade to 1.36.x first, then on to 1.37.0"),
    ("1.36.4", "1.35.9", "downgrades are not supported"),
    ("1.36.4", "2.0.0", "major version"),
    ("1.36.4", "1.37", "is not a MAJOR.MINOR.PATCH version"),
])
def test_skew_refusals_name_the_way_forward(current, target, words):
    with pytest.raises(UpgradeRefused) as raised:
        upgrade_policy.check_skew(current, target)
    assert words in str(raised.value)


def test_unsupported_targets_are_refused():
    with pytest.raises(UpgradeRefused, match="supported: 1.35.0 to 1.37.x"):
        upgrade_policy.check_supported("k3s", "1.38.0")


@pytest.mark.parametrize("given, workers, size", [("1", 5, 1), ("2", 5, 2), ("40%", 5, 2), ("100%", 5, 5), ("1%", 5, 1)])
def test_batch_size(given, workers, size):
    assert upgrade_policy.batch_size(given, workers) == size


@pytest.mark.parametrize("given", ["0", "-1", "0%", "150%", "half"])
def test_bad_batch_sizes_are_refused(given):
    with pytest.raises(UpgradeRefused):
        upgrade_policy.batch_size(given, 4)


def test_release_must_carry_the_target():
    assert upgrade_policy.release_for("k3s", "1.37.2") == "v1.37.2+k3s1"
    assert upgrade_policy.release_for("rke2", "1.37.2", "v1.37.2+rke2r2") == "v1.37.2+rke2r2"
    assert upgrade_policy.release_for("talos", "1.37.2") is None
    with pytest.raises(UpgradeRefused, match="carries Kubernetes 1.37.1"):
        upgrade_policy.release_for("k3s", "1.37.2", "v1.37.1+k3s1")
    with pytest.raises(UpgradeRefused, match="is not a k0s release"):
        upgrade_policy.release_for("k0s", "1.37.2", "v1.37.2+k3s1")


def test_plan_orders_control_planes_first_then_worker_batches(store):
    register(store)
    plan = upgrade_policy.plan(store, "up", "1.36.4", max_unavailable="2")
    assert plan["needed"] and plan["from_version"] == "1.35.9" and plan["to_version"] == "1.36.4"
    assert plan["first_control_plane"] == "up-cp-1"
    assert plan["control_planes"] == ["up-cp-1", "up-cp-2", "up-cp-3"]
    assert plan["worker_batches"] == [["up-general-1", "up-general-2"], ["up-general-3", "up-general-4"], ["up-general-5"]]
    assert plan["release"] == "v1.36.4"


def test_plan_refuses_before_anything_for_a_cluster_not_running(store):
    register(store, phase=lifecycle.INSTALLING)
    with pytest.raises(UpgradeRefused, match="is Installing"):
        upgrade_policy.plan(store, "up", "1.36.4")


def test_same_version_needs_nothing(store):
    register(store, version="1.36.4")
    assert upgrade_policy.plan(store, "up", "1.36.4")["needed"] is False


@pytest.mark.parametrize("target, words", [
    ("1.37.2", "target_version: Kubernetes upgrades go one minor version at a time: from 1.35.9 upgrade to 1.36.x first"),
    ("1.35.8", "target_version: downgrades are not supported (1.35.8 is below the running 1.35.9)"),
    ("1.34.9", "target_version: kubeadm 1.34.9 is not supported; supported: 1.35.0 to 1.37.x"),
    ("1.38.0", "target_version: kubeadm 1.38.0 is not supported"),
])
def test_plan_refuses_a_skipped_minor_a_downgrade_and_an_unsupported_target(store, target, words):
    cluster = register(store)
    events = len(store.list_events(cluster.id))
    with pytest.raises(UpgradeRefused) as raised:
        upgrade_policy.plan(store, "up", target)
    assert str(raised.value).startswith(words), str(raised.value)
    assert store.get_cluster(cluster.id).status.phase == lifecycle.RUNNING
    assert len(store.list_events(cluster.id)) == events          # read only: not even an event


def test_every_supported_minor_upgrades_to_the_next_and_not_past_the_newest():
    minors = versions.supported_minors()
    for older, newer in zip(minors, minors[1:]):
        upgrade_policy.check_supported("k3s", newer + ".0")
        upgrade_policy.check_skew(older + ".3", newer + ".0")
    major, minor = versions.NEWEST.split(".")
    with pytest.raises(UpgradeRefused, match="is not supported"):
        upgrade_policy.check_supported("k3s", "{0}.{1}.0".format(major, int(minor) + 1))
