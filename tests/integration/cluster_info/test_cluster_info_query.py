"""gpve_cluster_info list, query and full views over a registry holding all three cluster types."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.as_a_user import ansible_cli
from tests.as_a_user.seed import CANARY_SECRET, seed_three_types

pytestmark = pytest.mark.registry


@pytest.fixture
def registry_path(tmp_path):
    return str(tmp_path / "registry.db")


@pytest.fixture
def seeded(registry_path):
    return seed_three_types(registry_path)


def info(registry_path, tmp_path, **args):
    result = ansible_cli.run_module("gpve_cluster_info", dict(args, registry=registry_path), tmp_path)
    assert not result.get("failed"), result.get("msg")
    return result


def names(result):
    return [cluster["name"] for cluster in result["clusters"]]


@pytest.mark.parametrize("args, expected", [
    ({}, ["dev-eu1", "ext-gke", "ext-old", "prod-eu1", "team-a", "team-b"]),
    ({"type": ["vcluster"]}, ["team-a", "team-b"]),
    ({"type": ["k8s-vm", "external"], "phase": ["Running"]}, ["ext-gke", "prod-eu1"]),
    ({"labels": {"env": "prod"}}, ["ext-gke", "prod-eu1", "team-b"]),
    ({"labels": {"env": "dev", "team": "search"}}, ["team-a"]),
    ({"phase": ["Failed"]}, ["team-b"]),
    ({"limit": 2}, ["dev-eu1", "ext-gke"]),
    ({"limit": 2, "offset": 4}, ["team-a", "team-b"]),
])
def test_queries(seeded, registry_path, tmp_path, args, expected):
    result = info(registry_path, tmp_path, **args)
    assert names(result) == expected
    assert result["changed"] is False
    if "limit" in args:
        assert result["total"] == 6


def test_summary_fields(seeded, registry_path, tmp_path):
    clusters = {c["name"]: c for c in info(registry_path, tmp_path)["clusters"]}
    gke = clusters["ext-gke"]
    assert (gke["id"], gke["type"], gke["provider"], gke["phase"]) == (seeded["ext-gke"], "external", "gke", "Running")
    assert (gke["endpoint"], gke["version"], gke["node_count"], gke["ready_nodes"], gke["pod_count"]) == (
        "https://34.1.2.3", "v1.30.2", 12, 11, 140)
    assert clusters["prod-eu1"]["registered_nodes"] == 7
    assert "spec" not in gke and "nodes" not in gke


def test_one_cluster_in_full(seeded, registry_path, tmp_path):
    expires = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    with open_registry(registry_path, environ={}) as store:
        store.put_credential(seeded["prod-eu1"], "issued-00aa", "{}", expires_at=expires)
        store.create_backup(seeded["prod-eu1"], "etcd", status="Completed", storage_location="s3://b/prod.db",
                            completed_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    result = info(registry_path, tmp_path, name="prod-eu1", events_limit=3)
    (prod,) = result["clusters"]
    assert prod["spec"] == {"distribution": "kubeadm", "kubernetes_version": "1.37.2"}
    assert prod["status"]["phase"] == "Running" and prod["status"]["endpoint"] == "https://127.0.1.7:6443"
    assert len(prod["nodes"]) == 7 and {n["role"] for n in prod["nodes"]} == {"control-plane", "worker", "lb"}
    assert len(prod["events"]) == 3 and prod["events"][0]["metadata"]["to"] == "Running"
    assert prod["backups"][0]["storage_location"] == "s3://b/prod.db"
    assert prod["last_backup_at"] == "2026-01-01T00:00:00+00:00"
    assert sorted(c["type"] for c in prod["credentials"]) == ["issued-00aa", "kubeconfig"]
    assert prod["issued_kubeconfig_expires_at"] == expires.isoformat()
    by_id = info(registry_path, tmp_path, id=seeded["prod-eu1"])
    assert by_id["clusters"][0]["name"] == "prod-eu1"
    raw = ansible_cli.run_module("gpve_cluster_info", dict(registry=registry_path, name="prod-eu1"), tmp_path)
    assert CANARY_SECRET not in repr(raw)


def test_unknown_name_is_an_empty_list(seeded, registry_path, tmp_path):
    result = info(registry_path, tmp_path, name="nope")
    assert result["clusters"] == [] and result["total"] == 0


@pytest.mark.parametrize("args, message", [
    ({"update_registry": True}, "update_registry: writes health results back: it needs health=true"),
    ({"dest": "/tmp/x.prom"}, "dest: is the Prometheus textfile: it needs format=prometheus"),
    ({"format": "prometheus", "dest": "/tmp/metrics.txt"}, "reads only *.prom files"),
    ({"limit": 0}, "limit: must be at least 1"),
    ({"failure_threshold": 0, "health": True}, "failure_threshold: must be at least 1"),
])
def test_invalid_requests(seeded, registry_path, tmp_path, args, message):
    result = ansible_cli.run_module("gpve_cluster_info", dict(args, registry=registry_path), tmp_path)
    assert result["failed"] is True and message in result["msg"]
