"""A separate process working on a registry, for the concurrency and crash tests.

    registry_worker.py increment LOCATION KEY N CLUSTER_ID...
        Print "ready", wait for a line on stdin, then make N compare-and-swap increments of
        each cluster's status pod_count and of its "counter" annotation (round robin),
        re-reading and retrying on Conflict. Prints a JSON summary; any other error exits 1.

    registry_worker.py claim LOCATION KEY CLUSTER_ID IP
        Print "ready", wait for a line on stdin, then record one node with address IP for the
        cluster, exclusively; print "claimed" or "in-use".

    registry_worker.py hold LOCATION KEY CLUSTER_ID NODES
        Open a write transaction that writes NODES large nodes and a status change for the
        cluster, print "in-transaction", then block (until killed) without committing.
"""

from __future__ import annotations

import json
import os
import sys
import time

from ansible_collections.gpve.cluster.plugins.module_utils import registry
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import AddressInUse, Conflict
from ansible_collections.gpve.cluster.plugins.module_utils.registry.nodes import NodeOps, node_values
from ansible_collections.gpve.cluster.plugins.module_utils.registry.transaction import utcnow


def increment_status(store, cluster_id):
    conflicts = 0
    while True:
        status = store.get_status(cluster_id)
        try:
            store.update_status(cluster_id, expected_version=status.resource_version, pod_count=status.pod_count + 1)
            return conflicts
        except Conflict:
            conflicts += 1


def increment_annotation(store, cluster_id):
    conflicts = 0
    while True:
        cluster = store.get_cluster(cluster_id)
        annotations = dict(cluster.annotations, counter=str(int(cluster.annotations.get("counter", "0")) + 1))
        try:
            store.update_cluster(cluster_id, cluster.resource_version, annotations=annotations)
            return conflicts
        except Conflict:
            conflicts += 1


def increment(location, key, count, cluster_ids):
    store = registry.open_registry(location, encryption_key=key, actor=f"worker-{os.getpid()}", environ={})
    store.get_cluster(cluster_ids[0])  # connected and schema checked before the start line
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.monotonic()
    conflicts = 0
    for index in range(count):
        cluster_id = cluster_ids[index % len(cluster_ids)]
        conflicts += increment_status(store, cluster_id)
        conflicts += increment_annotation(store, cluster_id)
    print(json.dumps({"pid": os.getpid(), "conflicts": conflicts, "seconds": time.monotonic() - started}), flush=True)


def claim(location, key, cluster_id, address):
    store = registry.open_registry(location, encryption_key=key, actor=f"claimer-{os.getpid()}", environ={})
    store.get_cluster(cluster_id)
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        store.replace_nodes(cluster_id, [{"name": "node-1", "role": "worker", "ip_address": address}], exclusive_ips=True)
        print("claimed", flush=True)
    except AddressInUse:
        print("in-use", flush=True)


def hold(location, key, cluster_id, node_count):
    store = registry.open_registry(location, encryption_key=key, actor="doomed-writer", environ={})
    padding = "x" * 4096

    def work(tx):
        now = utcnow()
        for index in range(node_count):
            name, values = node_values({"name": f"doomed-{index}", "role": "worker", "resources": {"padding": padding}})
            NodeOps._put_node(tx, cluster_id, name, values, None, now)  # pylint: disable=protected-access
        tx.execute("UPDATE cluster_status SET phase = 'Failed', message = 'uncommitted' WHERE cluster_id = ?", (cluster_id,))
        print("in-transaction", flush=True)
        while True:
            time.sleep(60)

    store._write(work)  # pylint: disable=protected-access


def main(argv):
    command, location, key = argv[1:4]
    if command == "increment":
        increment(location, key, int(argv[4]), argv[5:])
    elif command == "claim":
        claim(location, key, argv[4], argv[5])
    elif command == "hold":
        hold(location, key, argv[4], int(argv[5]))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv)
