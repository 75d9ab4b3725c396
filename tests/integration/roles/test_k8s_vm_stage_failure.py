"""A failing stage leaves the cluster Failed with the stage named; the next create recovers it."""

from __future__ import annotations

import pytest
from roles_support import SSH_KEY, stage_events, transitions

pytestmark = pytest.mark.roles

BROKEN = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: broken-cni
  namespace: kube-system
spec:
  template:
    metadata:
      labels: {app: broken-cni}
    spec:
      containers:
        - {name: cni, image: "registry.example.internal/cni:1.0"}
"""


def spec(cni):
    return {"distribution": {"type": "kubeadm"}, "kubernetes_version": "1.37.2",
            "control_plane": {"replicas": 1, "resources": {"memory": 1024, "disk_size": 20}},
            "workers": [{"name": "w", "replicas": 1, "resources": {"cores": 2, "memory": 1024, "disk_size": 20}}],
            "network": {"cni": cni, "vm_network": {"ip_allocation": "static", "prefix": 24, "gateway": "10.20.0.1",
                                                   "ip_range": {"start": "10.20.0.50", "end": "10.20.0.60"}}},
            "load_balancer": {"type": "haproxy", "resources": {"memory": 1024}},
            "ssh": {"public_keys": [SSH_KEY]}}


def test_a_failed_stage_is_recorded_and_a_rerun_recovers(k8s_vm_recorded, tmp_path):
    run, name = k8s_vm_recorded, "failing"
    manifest = tmp_path / "broken-cni.yaml"
    manifest.write_text(BROKEN)       # a Deployment without a selector: the API server refuses it
    result = run.play("create", name, gpve_cluster_spec=spec({"type": "custom", "config": {"manifest": str(manifest)}}))
    assert result.returncode != 0
    cluster = run.registry.cluster(name)
    assert cluster.status.phase == "Failed"
    assert cluster.status.message.startswith("stage cni failed")
    events = run.registry.events(cluster.id)
    assert stage_events(events)[-1] == ("cni", "StageFailed")
    failed = [e for e in events if e.reason == "StageFailed" and e.type == "Warning"][0]
    assert failed.metadata["stage"] == "cni" and failed.metadata["playbook"] == "create"
    assert transitions(events)[-1] == ("Installing", "Failed")
    assert "kubeconfig" not in run.registry.credential_types(cluster.id)

    ok = run.play("create", name, gpve_cluster_spec=spec({"type": "flannel"}))
    assert ok.returncode == 0, ok.stdout[-4000:]
    cluster = run.registry.cluster(name)
    assert cluster.status.phase == "Running"
    assert transitions(run.registry.events(cluster.id))[-4:] == [("Failed", "Provisioning"), ("Provisioning", "Bootstrapping"),
                                                                 ("Bootstrapping", "Installing"), ("Installing", "Running")]
