"""gpve_cluster_info health against the testbed: healthy, degraded without the controller manager, unhealthy
without the API server (after the failure threshold), healthy again; results written back; Prometheus output."""

from __future__ import annotations

import datetime
import os
import re

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.as_a_user import ansible_cli
from tests.as_a_user.testbed_cluster import register_as_k8s_vm

pytestmark = pytest.mark.health

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$')


@pytest.fixture
def registry_path(tmp_path):
    return str(tmp_path / "registry.db")


@pytest.fixture
def testbed_cluster(testbed, registry_path):
    with open_registry(registry_path, actor="health-tests", environ={}) as store:
        return register_as_k8s_vm(store, testbed)


def info(registry_path, tmp_path, **args):
    result = ansible_cli.run_module("gpve_cluster_info", dict(args, registry=registry_path), tmp_path)
    assert not result.get("failed"), result.get("msg")
    return result


def checks_of(cluster):
    return {check["name"]: check for check in cluster["health"]["checks"]}


def condition(registry_path, cluster_id):
    with open_registry(registry_path, environ={}) as store:
        status = store.get_status(cluster_id)
        events = [(e.type, e.reason, e.metadata.get("to")) for e in store.list_events(cluster_id=cluster_id)
                  if e.reason == "HealthChanged"]
    found = [c for c in status.conditions if c["type"] == "Healthy"]
    return (found[0] if found else None), status, list(reversed(events))


def test_healthy_then_degraded_then_unhealthy_then_healthy(testbed, testbed_cluster, registry_path, tmp_path):
    args = dict(name="testbed-k8s", health=True, update_registry=True, failure_threshold=2, health_timeout=5)
    healthy = info(registry_path, tmp_path, **args)
    cluster = healthy["clusters"][0]
    assert healthy["changed"] is True
    assert cluster["health"]["status"] == "healthy", cluster["health"]
    checks = checks_of(cluster)
    assert {name: check["status"] for name, check in checks.items()} == {
        "api-server": "healthy", "control-plane": "healthy", "nodes": "healthy", "etcd": "healthy"}
    assert all(check["duration_seconds"] >= 0 and check["message"] for check in checks.values())
    assert checks["nodes"]["message"] == f"{len(testbed.node_names)}/{len(testbed.node_names)} nodes Ready"
    assert cluster["health"]["observed"]["version"] == testbed.k8s_version
    written, status, events = condition(registry_path, cluster["id"])
    assert (written["status"], written["reason"], written["consecutiveFailures"]) == ("True", "healthy", 0)
    assert status.last_heartbeat is not None and status.ready_nodes == len(testbed.node_names)
    assert events == [("Normal", "HealthChanged", "healthy")]

    testbed.stop_component("kube-controller-manager")
    try:
        degraded = info(registry_path, tmp_path, **args)["clusters"][0]
        assert degraded["health"]["status"] == "degraded"
        control_plane = checks_of(degraded)["control-plane"]
        assert control_plane["status"] == "degraded"
        assert "kube-controller-manager down (health endpoint: connection refused)" in control_plane["message"]
        assert "kube-scheduler running" in control_plane["message"]
        assert checks_of(degraded)["api-server"]["status"] == "healthy"

        testbed.stop_component("kube-apiserver")
        try:
            first = info(registry_path, tmp_path, **args)["clusters"][0]
            assert first["health"]["status"] == "degraded", "below the failure threshold a failing run is degraded"
            assert "(1 of 2 consecutive failed runs)" in first["health"]["message"]
            api = checks_of(first)["api-server"]
            assert api["status"] == "unhealthy" and "connection refused" in api["message"].lower()
            second = info(registry_path, tmp_path, **args)["clusters"][0]
            assert second["health"]["status"] == "unhealthy"
            assert second["health"]["consecutive_failures"] == 2
            written, _status, events = condition(registry_path, cluster["id"])
            assert (written["status"], written["reason"], written["consecutiveFailures"]) == ("False", "unhealthy", 2)
            assert [to for _kind, _reason, to in events] == ["healthy", "degraded", "unhealthy"]
            assert events[-1][0] == "Warning"
        finally:
            testbed.start_component("kube-apiserver")
    finally:
        testbed.start_component("kube-controller-manager")

    again = info(registry_path, tmp_path, **args)["clusters"][0]
    assert again["health"]["status"] == "healthy", again["health"]
    written, _status, _events = condition(registry_path, cluster["id"])
    assert written["consecutiveFailures"] == 0


def test_without_update_registry_nothing_is_written(testbed_cluster, registry_path, tmp_path):
    result = info(registry_path, tmp_path, name="testbed-k8s", health=True)
    assert result["changed"] is False and result["clusters"][0]["health"]["status"] == "healthy"
    written, status, _events = condition(registry_path, testbed_cluster.id)
    assert written is None and status.last_heartbeat is None


def test_check_mode_reports_but_writes_nothing(testbed_cluster, registry_path, tmp_path):
    dest = tmp_path / "gpve.prom"
    result = ansible_cli.run_module("gpve_cluster_info", dict(registry=registry_path, name="testbed-k8s", health=True,
                                                              update_registry=True, format="prometheus", dest=str(dest)),
                                    tmp_path, check_mode=True)
    assert result["changed"] is True and not dest.exists()
    written, _status, _events = condition(registry_path, testbed_cluster.id)
    assert written is None


def _running_pods(kube_client) -> int:
    from kubernetes import client
    return sum(1 for pod in client.CoreV1Api(kube_client).list_pod_for_all_namespaces().items
               if pod.status.phase == "Running")


def test_prometheus_textfile(testbed, testbed_cluster, registry_path, tmp_path, kube_client):
    expires = datetime.datetime(2031, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    finished = datetime.datetime(2026, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    with open_registry(registry_path, environ={}) as store:
        store.put_credential(testbed_cluster.id, "kubeconfig", store.get_credential(testbed_cluster.id, "kubeconfig").data,
                             expires_at=expires)
        store.create_backup(testbed_cluster.id, "etcd", status="Completed", completed_at=finished)
        store.create_backup(testbed_cluster.id, "etcd", status="Failed", completed_at=finished + datetime.timedelta(days=1))
        store.create_cluster('odd"name\\x', "external", spec={"endpoint": "https://10.0.0.1:6443"})
    dest = tmp_path / "textfile" / "gpve_clusters.prom"
    dest.parent.mkdir()
    running_before = _running_pods(kube_client)
    result = info(registry_path, tmp_path, health=True, format="prometheus", dest=str(dest))
    running_after = _running_pods(kube_client)
    text = dest.read_text()
    assert text == result["metrics"] and result["changed"] is True
    assert oct(os.stat(dest).st_mode & 0o777) == "0o644"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["gpve_clusters.prom"], "no temporary file left behind"

    families, samples = set(), []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _hash, _type, name, kind = line.split(" ")
            assert kind == "gauge" and name not in families, line
            families.add(name)
        elif not line.startswith("# HELP "):
            assert SAMPLE.match(line), line
            samples.append(line)
    assert all(name.startswith("gpve_cluster_") and not name.endswith("_total") for name in families)
    identity = f'cluster_id="{testbed_cluster.id}",cluster_name="testbed-k8s",cluster_type="k8s-vm"'
    for expected in (
            f'gpve_cluster_phase{{{identity},phase="Running"}} 1',
            f'gpve_cluster_phase{{{identity},phase="Failed"}} 0',
            f'gpve_cluster_health{{{identity},status="healthy"}} 1',
            f'gpve_cluster_health{{{identity},status="unhealthy"}} 0',
            f'gpve_cluster_nodes_ready{{{identity}}} {len(testbed.node_names)}',
            f'gpve_cluster_kubeconfig_expiry_timestamp_seconds{{{identity}}} {expires.timestamp()}',
            f'gpve_cluster_last_backup_timestamp_seconds{{{identity}}} {finished.timestamp()}',
            f'gpve_cluster_health_check_healthy{{{identity},check="etcd"}} 1'):
        assert expected in samples, expected
    pods = [line for line in samples if line.startswith(f'gpve_cluster_pods{{{identity},phase="Running"}} ')]
    assert len(pods) == 1 and int(pods[0].rsplit(" ", 1)[1]) in (running_before, running_after), (
        pods, running_before, running_after)  # the testbed's own pods (CoreDNS at least) run on its real node
    assert any('cluster_name="odd\\"name\\\\x"' in line for line in samples), "label values are escaped"
    assert any(line.startswith("gpve_cluster_health_check_duration_seconds{") for line in samples)
