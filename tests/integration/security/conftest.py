"""Fixtures of the hostile-input tables: a sandbox directory whose writes are watched, a SQLite registry holding one
external cluster named lab, and one holding a Running K8s-on-VM cluster named lab with its nodes."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds, stored_specs
from ansible_collections.gpve.cluster.plugins.module_utils.planner import spec as specs
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.integration.security.hostile_support import make_sandbox


@pytest.fixture
def sandbox(tmp_path):
    return make_sandbox(tmp_path)


@pytest.fixture
def registry(tmp_path):
    path = str(tmp_path / "registry.db")
    with open_registry(path, environ={}) as store:
        store.create_cluster("lab", "external", spec={"endpoint": "https://127.0.0.1:6443"})
    return path


@pytest.fixture
def k8s_vm_registry(tmp_path):
    """A SQLite registry with lab: kubeadm 1.36.4, Running, one control plane and two workers (no VM anywhere)."""
    path = str(tmp_path / "registry.db")
    spec = specs.normalise({"name": "lab", "kubernetes_version": "1.36.4", "workers": [{"name": "general", "replicas": 2}]})
    with open_registry(path, environ={}) as store:
        cluster = store.create_cluster("lab", "k8s-vm", spec=stored_specs.to_stored(kinds.K8S_VM, spec))
        store.upsert_nodes(cluster.id, [{"name": "lab-cp-1", "role": "control-plane", "status": "Running"}] + [
            {"name": f"lab-general-{n}", "role": "worker", "pool_name": "general", "status": "Running"} for n in (1, 2)])
        for phase in (lifecycle.PROVISIONING, lifecycle.BOOTSTRAPPING, lifecycle.INSTALLING, lifecycle.RUNNING):
            lifecycle.transition(store, cluster.id, phase, "Seeded")
    return path
