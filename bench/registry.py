"""Registry benchmark: read latency and concurrent write throughput on SQLite and PostgreSQL.

For each backend: register CLUSTERS clusters with NODES nodes each, then time
get-by-name and a two-label query (P50/P99), then let WRITERS processes heartbeat their
clusters by compare-and-swap at the same time (writes per second). Targets: read P99
under 10 ms on SQLite and 20 ms on PostgreSQL. The last line is ``ratio=`` the worst read
P99 divided by its backend's target (below 1 meets the goal).

    python bench/registry.py [--size tiny|full] [--pg-dsn DSN]

``--size`` defaults to ``GPVE_BENCH_SIZE``, else full. PostgreSQL: ``--pg-dsn``, else
``GPVE_BENCH_PG_DSN`` / ``GPVE_TESTBED_PG_DSN`` (a server DSN: the benchmark creates and
drops a database of its own there), else a throwaway server is started and stopped.
"""

from __future__ import annotations

import argparse
import base64
import math
import multiprocessing
import os
import random
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for import_root in (REPO / ".build" / "collections", REPO):
    if import_root.is_dir() and str(import_root) not in sys.path:
        sys.path.insert(0, str(import_root))

from ansible_collections.gpve.cluster.plugins.module_utils import registry  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.crypto import generate_key  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import Conflict  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.registry.transaction import utcnow  # noqa: E402
from tests.testbed.postgres import create_database, drop_database, start_postgres  # noqa: E402

SIZES = {
    "full": {"clusters": 1000, "nodes": 10, "reads": 2000, "writers": 50, "writes_per_writer": 40},
    "tiny": {"clusters": 20, "nodes": 3, "reads": 50, "writers": 4, "writes_per_writer": 5},
}
TARGET_P99_MS = {"sqlite": 10.0, "postgresql": 20.0}
ENVS, TEAMS, REGIONS = ("prod", "staging", "dev"), tuple(f"t{i}" for i in range(10)), ("r0", "r1", "r2", "r3")


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def spec_for(index):
    return {"distribution": "kubeadm", "kubernetes_version": "1.37.2", "control_plane": {"count": 3, "cores": 2, "memory": 4096},
            "workers": [{"name": "general", "count": 7, "cores": 4, "memory": 8192}], "networking": {"cni": "cilium"},
            "proxmox": {"node": f"pve{index % 3}", "pool": "k8s"}}


def populate(store, size):
    for index in range(size["clusters"]):
        labels = {"env": ENVS[index % 3], "team": TEAMS[index % 10], "region": REGIONS[index % 4]}
        cluster = store.create_cluster(f"bench-{index:05d}", "k8s-vm", spec=spec_for(index), labels=labels)
        store.replace_nodes(cluster.id, [
            {"name": f"bench-{index:05d}-{role}-{n}", "role": role, "vmid": 10000 + index * 16 + n, "status": "Ready",
             "ip_address": f"10.{index // 250}.{index % 250}.{n + 10}", "pool_name": "general" if role == "worker" else None,
             "resources": {"cores": 4, "memory": 8192}}
            for n, role in enumerate(["control-plane"] * 3 + ["worker"] * (size["nodes"] - 3))])


def time_reads(call, arguments):
    samples = []
    for argument in arguments:
        started = time.perf_counter()
        call(argument)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def writer(location, key, cluster_ids, writes, barrier, results):
    store = registry.open_registry(location, encryption_key=key, actor="bench-writer", environ={})
    store.get_cluster(cluster_ids[0])
    barrier.wait()
    conflicts = 0
    for index in range(writes):
        cluster_id = cluster_ids[index % len(cluster_ids)]
        while True:
            status = store.get_status(cluster_id)
            try:
                store.update_status(cluster_id, expected_version=status.resource_version, last_heartbeat=utcnow(),
                                    ready_nodes=status.ready_nodes + 1)
                break
            except Conflict:
                conflicts += 1
    results.put(conflicts)
    store.close()


def concurrent_writes(location, key, cluster_ids, size):
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(size["writers"] + 1)
    results = context.Queue()
    workers = [context.Process(target=writer, args=(location, key, cluster_ids[index::size["writers"]],
                                                    size["writes_per_writer"], barrier, results))
               for index in range(size["writers"])]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    conflicts = sum(results.get(timeout=600) for _worker in workers)
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join(timeout=60)
        if worker.exitcode != 0:
            raise SystemExit(f"a writer process failed (exit code {worker.exitcode})")
    return size["writers"] * size["writes_per_writer"] / elapsed, conflicts


def run_backend(backend, location, size):
    key = base64.b64encode(generate_key()).decode()
    store = registry.open_registry(location, encryption_key=key, actor="bench", environ={})
    started = time.perf_counter()
    populate(store, size)
    populate_s = time.perf_counter() - started
    rng = random.Random(42)
    names = [f"bench-{rng.randrange(size['clusters']):05d}" for _read in range(size["reads"])]
    get_ms = time_reads(store.get_cluster_by_name, names)
    selectors = [{"env": rng.choice(ENVS), "team": rng.choice(TEAMS)} for _read in range(size["reads"])]
    matched = []
    label_ms = time_reads(lambda labels: matched.append(len(store.query_clusters(labels=labels))), selectors)
    cluster_ids = [cluster.id for cluster in store.query_clusters()]
    store.close()
    throughput, conflicts = concurrent_writes(location, key, cluster_ids, size)
    report = {
        "get_p50": percentile(get_ms, 0.50), "get_p99": percentile(get_ms, 0.99),
        "label_p50": percentile(label_ms, 0.50), "label_p99": percentile(label_ms, 0.99),
    }
    print(f"[{backend}] populated {size['clusters']} clusters x {size['nodes']} nodes in {populate_s:.1f} s")
    print(f"[{backend}] get-by-name    P50 {report['get_p50']:.2f} ms  P99 {report['get_p99']:.2f} ms  ({len(get_ms)} reads)")
    print(f"[{backend}] label query    P50 {report['label_p50']:.2f} ms  P99 {report['label_p99']:.2f} ms  "
          f"({len(label_ms)} queries, {sum(matched) / len(matched):.1f} clusters each)")
    print(f"[{backend}] {size['writers']} concurrent writers: {throughput:.0f} CAS writes/s ({conflicts} conflicts retried)")
    worst = max(report["get_p99"], report["label_p99"])
    print(f"[{backend}] read P99 {worst:.2f} ms vs target {TARGET_P99_MS[backend]:.0f} ms", flush=True)
    return worst / TARGET_P99_MS[backend]


@contextmanager
def postgres_server(dsn, scratch):
    if dsn:
        yield dsn
        return
    instance = start_postgres(scratch / "postgres")
    try:
        yield instance.dsn
    finally:
        instance.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--size", choices=sorted(SIZES), default=os.environ.get("GPVE_BENCH_SIZE", "full"))
    parser.add_argument("--pg-dsn", default=os.environ.get("GPVE_BENCH_PG_DSN") or os.environ.get("GPVE_TESTBED_PG_DSN"))
    options = parser.parse_args(argv)
    size = SIZES[options.size]
    print(f"registry benchmark, size {options.size}: {size}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    ratios = []
    with tempfile.TemporaryDirectory(prefix="gpve-bench-") as scratch:
        ratios.append(run_backend("sqlite", str(Path(scratch) / "registry.db"), size))
        with postgres_server(options.pg_dsn, Path(scratch)) as server_dsn:
            database = create_database(server_dsn, prefix="bench")
            try:
                ratios.append(run_backend("postgresql", database, size))
            finally:
                drop_database(server_dsn, database)
    print(f"load average at the end {os.getloadavg()[0]:.1f} (other work on the machine inflates tail latencies)")
    print(f"ratio={max(ratios):.3f}")


if __name__ == "__main__":
    main()
