"""Many processes on one registry: no lost update, no "database is locked", no damage from a killed writer."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys

import pytest
from registry_helpers import WORKER, k8s_spec, worker_env

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle

pytestmark = pytest.mark.registry

PROCESSES = 50
INCREMENTS = 10  # per process, of each of two counters
CLUSTERS = 5
WAIT_S = 600  # a generous bound so a hung worker fails the test instead of hanging it


def spawn(*args):
    return subprocess.Popen([sys.executable, str(WORKER), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=worker_env())


def test_fifty_processes_lose_no_compare_and_swap_update(store, location, encryption_key):
    clusters = [store.create_cluster(f"hot-{index}", "k8s-vm", spec=k8s_spec()) for index in range(CLUSTERS)]
    workers = [spawn("increment", location, encryption_key, str(INCREMENTS), *[c.id for c in clusters]) for _worker in range(PROCESSES)]
    outcomes = run_together(workers)  # started at once, for as much contention as possible
    failures = [stderr for code, _out, stderr in outcomes if code != 0]
    assert failures == [], failures[0]
    assert not any("locked" in stderr.lower() for _code, _out, stderr in outcomes)
    conflicts = sum(json.loads(out)["conflicts"] for _code, out, _err in outcomes)
    per_cluster = PROCESSES * INCREMENTS // CLUSTERS
    for cluster in store.query_clusters(ids=[c.id for c in clusters]):
        assert cluster.status.pod_count == per_cluster, f"lost status updates ({conflicts} conflicts retried)"
        assert cluster.status.resource_version == 1 + per_cluster
        assert int(cluster.annotations["counter"]) == per_cluster
        assert cluster.resource_version == 1 + per_cluster


def run_together(workers):
    """Wait for every worker's "ready", start them at once, return their outputs."""
    try:
        for worker in workers:
            line = worker.stdout.readline()
            assert line.strip() == "ready", worker.stderr.read() if worker.poll() is not None else line
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        return [(worker.wait(timeout=WAIT_S), worker.stdout.read(), worker.stderr.read()) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


def test_concurrent_exclusive_claims_of_one_address_have_one_winner(store, location, encryption_key):
    clusters = [store.create_cluster(f"claim-{index}", "k8s-vm", spec=k8s_spec()) for index in range(10)]
    outcomes = run_together([spawn("claim", location, encryption_key, cluster.id, "10.1.2.3") for cluster in clusters])
    assert [code for code, _out, _err in outcomes] == [0] * 10, [err for _code, _out, err in outcomes]
    assert sorted(out.strip() for _code, out, _err in outcomes) == ["claimed"] + ["in-use"] * 9
    assert len(store.allocated_ips()) == 1


def test_writer_killed_mid_transaction_leaves_a_consistent_database(backend, store, open_store, location, encryption_key):
    cluster = store.create_cluster("crash", "k8s-vm", spec=k8s_spec())
    store.replace_nodes(cluster.id, [{"name": f"w-{index}", "role": "worker"} for index in range(3)])
    lifecycle.transition(store, cluster.id, "Provisioning", "ProvisionStarted", "committed before the crash")
    doomed = spawn("hold", location, encryption_key, cluster.id, "3000")
    try:
        assert doomed.stdout.readline().strip() == "in-transaction", doomed.stderr.read()
        # Readers are not blocked by the open write transaction.
        assert store.get_status(cluster.id).phase == "Provisioning"
        if backend == "sqlite":
            assert os.path.getsize(location + "-wal") > 4 * 1024 * 1024, "the uncommitted transaction should have reached the WAL"
        os.kill(doomed.pid, signal.SIGKILL)
        assert doomed.wait(timeout=WAIT_S) == -signal.SIGKILL
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait()
        doomed.stdout.close()
        doomed.stderr.close()

    after = open_store()
    assert [node.name for node in after.list_nodes(cluster.id)] == ["w-0", "w-1", "w-2"]
    status = after.get_status(cluster.id)
    assert (status.phase, status.message) == ("Provisioning", "committed before the crash")
    lifecycle.transition(after, cluster.id, "Bootstrapping", "VMsReady")  # the write lock was released
    assert after.get_status(cluster.id).phase == "Bootstrapping"
    if backend == "sqlite":
        conn = sqlite3.connect(location)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.close()


def test_a_forked_child_gets_its_own_connection_and_leaves_the_parents_alone(store):
    """Ansible forks workers after the inventory opened the registry: both sides keep working."""
    cluster = store.create_cluster("forked", "k8s-vm", spec=k8s_spec())
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit code
        code = 1
        try:
            store.update_status(cluster.id, pod_count=7)
            code = 0 if store.get_status(cluster.id).pod_count == 7 else 2
            store.close()
        finally:
            os._exit(code)  # pylint: disable=protected-access
    assert os.waitpid(child, 0)[1] == 0
    assert store.get_status(cluster.id).pod_count == 7  # the parent's connection still works
    store.update_status(cluster.id, pod_count=8)
    assert store.get_status(cluster.id).pod_count == 8
