"""etcd: a snapshot of the testbed's etcd, verified, restored into a new data dir; a fresh etcd serves the keys."""

from __future__ import annotations

import os
import subprocess

import pytest
import requests
from backup_support import archive_members, archive_path, local_storage, request

from ansible_collections.gpve.cluster.plugins.module_utils.backup.archive import ETCD_SNAPSHOT
from tests.testbed.processes import free_ports, wait_until

# etcd, etcdctl and etcdutl are the testbed's (etcd 3.7), as a controller with the etcd client tools has them.
pytestmark = [pytest.mark.backup, pytest.mark.usefixtures("etcd_on_path")]


def _etcd_client_url(testbed):
    argv = testbed.component("etcd").argv
    return argv[argv.index("--listen-client-urls") + 1]


def _etcdctl_get(endpoint, key):
    out = subprocess.run(["etcdctl", f"--endpoints={endpoint}", "get", key, "--print-value-only=false", "--keys-only"],
                         capture_output=True, text=True, check=True, env={"ETCDCTL_API": "3", "PATH": os.environ["PATH"]})
    return out.stdout.split()


def test_snapshot_of_the_testbed_etcd_restores_into_a_fresh_etcd_that_serves_the_keys(
        service, registered, testbed, namespaces, backup_dir, tmp_path):
    _store, cluster = registered
    namespace = namespaces("etcd")
    client_url = _etcd_client_url(testbed)
    assert _etcdctl_get(client_url, f"/registry/namespaces/{namespace}") == [f"/registry/namespaces/{namespace}"]

    taken = service.run(request(cluster=cluster.name, type="etcd", etcd={"endpoints": [client_url]},
                                storage=local_storage(backup_dir)))
    assert taken["etcd"]["total_keys"] > 0 and taken["etcd"]["endpoint"] == client_url
    assert ETCD_SNAPSHOT in archive_members(archive_path(taken["backup"]))
    assert taken["backup"]["metadata"]["etcd"]["revision"] > 0

    peer_port, client_port = free_ports(["127.0.0.1"] * 2)
    peer_url, new_client = f"http://127.0.0.1:{peer_port}", f"http://127.0.0.1:{client_port}"
    data_dir = tmp_path / "restored-etcd"
    restored = service.run(request(state="restored", backup_id=taken["backup"]["id"], storage=local_storage(backup_dir),
                                   etcd_restore={"data_dir": str(data_dir), "name": "restored",
                                                 "initial_cluster": f"restored={peer_url}",
                                                 "initial_advertise_peer_urls": peer_url}))
    assert restored["etcd"]["data_dir"] == str(data_dir) and (data_dir / "member").is_dir()

    with open(tmp_path / "etcd.log", "wb") as log:
        fresh = subprocess.Popen(["etcd", "--name", "restored", "--data-dir", str(data_dir),
                                  "--listen-client-urls", new_client, "--advertise-client-urls", new_client,
                                  "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                                  "--initial-cluster", f"restored={peer_url}"], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: '"health":"true"' in requests.get(f"{new_client}/health", timeout=2).text, 60, "restored etcd")
        assert _etcdctl_get(new_client, f"/registry/namespaces/{namespace}") == [f"/registry/namespaces/{namespace}"]
    finally:
        fresh.terminate()
        fresh.wait(timeout=30)


def test_etcd_restore_refuses_a_data_dir_in_use(service, registered, testbed, backup_dir, tmp_path):
    from ansible_collections.gpve.cluster.plugins.module_utils.backup.errors import EtcdError

    _store, cluster = registered
    taken = service.run(request(cluster=cluster.name, type="etcd", etcd={"endpoints": [_etcd_client_url(testbed)]},
                                storage=local_storage(backup_dir)))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "member").mkdir()
    with pytest.raises(EtcdError, match="not empty"):
        service.run(request(state="restored", backup_id=taken["backup"]["id"], storage=local_storage(backup_dir),
                            etcd_restore={"data_dir": str(busy), "name": "x", "initial_cluster": "x=http://127.0.0.1:1",
                                          "initial_advertise_peer_urls": "http://127.0.0.1:1"}))
