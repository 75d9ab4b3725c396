"""vCluster benchmark: gpve_vcluster from start to Running on the testbed, alone and 100 at once.

1. SINGLE vClusters created one after another through ansible: the wall time of each
   run, and the module's own time from registration to Running (the registry's
   ``created_at`` to the status ``ready_at``).
2. COUNT vClusters created by one play with FORKS forks: total time, every one Running in
   the registry, then all deleted by a second play and nothing left behind (no namespace,
   no cluster-scoped RBAC object, no live registry entry).

The node stand-in makes pods ready at once, but under 25 forks the host's scheduler and
controllers still take their time: the wait for the pods (Starting to Running) is reported
apart from the module's own work. Goal: under 3 s median module overhead per vCluster
(registration to Running without that wait) in the parallel play. The last line is
``ratio=`` that median divided by 3 s (below 1 meets the goal).

    python bench/vcluster.py [--size tiny|full]

``--size`` defaults to ``GPVE_BENCH_SIZE``, else full. Uses the running testbed named by
``GPVE_TESTBED_ENV`` if there is one, else starts a fresh one and stops it afterwards. The
volumes earlier runs' claims left Released (the pool's policy is Retain) are returned to
the pool first, so runs can follow one another on one testbed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for import_root in (REPO / ".build" / "collections", REPO):
    if import_root.is_dir() and str(import_root) not in sys.path:
        sys.path.insert(0, str(import_root))

from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.kube.resources import Resources  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry  # noqa: E402
from tests.testbed import storage_pool  # noqa: E402
from tests.testbed.testbed import STANDIN, Testbed  # noqa: E402

SIZES = {"full": {"single": 5, "count": 100, "forks": 25}, "tiny": {"single": 2, "count": 4, "forks": 2}}
GOAL_SECONDS = 3.0
# 1Gi claims fit the smallest volumes of the testbed's pool, which has 224.
STORAGE_SIZE = "1Gi"
# The stand-in nodes offer 3 x 8 CPUs: 100 control planes fit only with small requests.
SMALL = {"requests": {"cpu": "5m", "memory": "16Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}
RESOURCES = {component: SMALL for component in
             ("api_server", "controller_manager", "scheduler", "etcd", "syncer", "coredns")}
PREFIX = "bench-"


def running_testbed():
    """The testbed named by GPVE_TESTBED_ENV, else a new one whose Nodes the node stand-in plays: 100 vClusters'
    control planes need far more nodes than real machines here give (and their images cannot be had here)."""
    env_file = os.environ.get("GPVE_TESTBED_ENV")
    if env_file and Path(env_file).is_file():
        testbed = Testbed.load(Path(env_file).parent)
        testbed.ensure_running()
        return testbed, False
    return Testbed.create(Path(tempfile.mkdtemp(prefix="gpve-bench-testbed-")), nodes=3, node_mode=STANDIN), True


def reclaim_volumes(testbed):
    """The volumes earlier runs' claims left Released go back to the pool (a full run binds 105 of 224)."""
    from kubernetes import config
    api = config.new_client_from_config(testbed.kubeconfig)
    try:
        return storage_pool.reclaim_released(api, namespace_prefix=f"vc-{PREFIX}")
    finally:
        api.close()


def ansible_env(testbed, registry, work):
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build/collections"), ANSIBLE_HOME=str(work / "home"),
                ANSIBLE_LOCAL_TEMP=str(work / "tmp"), ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_KEY_CHECKING="0",
                GPVE_HOST_CLUSTER_KUBECONFIG=testbed.kubeconfig, GPVE_REGISTRY=registry)


def write_play(work, names, state):
    inventory = work / f"inventory-{state}.ini"
    interpreter = REPO / ".venv" / "bin" / "python"
    inventory.write_text("[vclusters]\n" + "".join(
        f"{name} ansible_connection=local ansible_python_interpreter={interpreter}\n" for name in names))
    playbook = work / f"play-{state}.yml"
    task = {"gpve.cluster.gpve_vcluster": {"name": "{{ inventory_hostname }}", "state": state,
                                           "storage": {"size": STORAGE_SIZE}, "resources": RESOURCES,
                                           "wait_timeout": 900}}
    playbook.write_text(json.dumps([{"hosts": "vclusters", "gather_facts": False, "tasks": [task]}]))
    return inventory, playbook


def run_play(env, work, names, state, forks):
    inventory, playbook = write_play(work, names, state)
    started = time.perf_counter()
    done = subprocess.run([str(REPO / ".venv/bin/ansible-playbook"), "-i", str(inventory), "-f", str(forks),
                           str(playbook)], env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(failures(done.stdout) + done.stderr[-2000:])
        raise SystemExit(f"the {state} play failed")
    return elapsed


def failures(play_output):
    """The failed tasks' lines of a play's output (each host's fatal line), else its end."""
    fatal = [line for line in play_output.splitlines() if line.startswith("fatal:")]
    return "\n".join(fatal[:10]) + "\n" if fatal else play_output[-5000:]


def module_seconds(registry, names):
    """Per vCluster from the registry: (registration to Running, of which waiting for the pods).

    The wait is the time between the Starting and Running transitions: the host's
    controllers, scheduler and the node stand-in at work. The rest is the module's own.
    """
    with open_registry(registry) as store:
        clusters = [store.get_cluster_by_name(name) for name in names]
        not_running = [c.name for c in clusters if c.status.phase != "Running"]
        if not_running:
            raise SystemExit(f"not Running after the play: {', '.join(not_running)}")
        timings = []
        for cluster in clusters:
            entered = {event.metadata.get("to"): event.timestamp
                       for event in store.list_events(cluster.id, type="Transition", limit=20)}
            total = (cluster.status.ready_at - cluster.created_at).total_seconds()
            timings.append((total, (entered["Running"] - entered["Starting"]).total_seconds()))
    return timings


def stage_medians(registry, names):
    """Median seconds from entering each phase to the next one, over the named vClusters: where the time goes."""
    stages = {}
    with open_registry(registry) as store:
        for name in names:
            cluster = store.get_cluster_by_name(name)
            moves = sorted((event.timestamp, event.metadata.get("to"))
                           for event in store.list_events(cluster.id, type="Transition", limit=20))
            for (entered, phase), (left, _next) in zip(moves, moves[1:]):
                stages.setdefault(phase, []).append((left - entered).total_seconds())
    order = ("Pending", "Provisioning", "Initializing", "Starting")
    return ", ".join(f"{phase} {statistics.median(stages[phase]):.2f}s" for phase in order if phase in stages)


def describe(timings):
    totals = [timing[0] for timing in timings]
    own = [total - waited for total, waited in timings]
    return statistics.median(totals), statistics.median(own), max(totals)


def leftovers(testbed, registry):
    client = connect(host_kubeconfig=testbed.kubeconfig)
    try:
        resources = Resources(client)
        namespaces = [n["metadata"]["name"] for n in resources.list("Namespace")
                      if n["metadata"]["name"].startswith(f"vc-{PREFIX}")]
        roles = [r["metadata"]["name"] for r in resources.list("ClusterRole")
                 if r["metadata"]["name"].startswith(f"vc-{PREFIX}")]
    finally:
        client.close()
    with open_registry(registry) as store:
        live = store.count_clusters(type="vcluster")
    return namespaces, roles, live


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default=os.environ.get("GPVE_BENCH_SIZE", "full"))
    size = SIZES[parser.parse_args().size]
    testbed, fresh = running_testbed()
    work = Path(tempfile.mkdtemp(prefix="gpve-bench-vcluster-"))
    registry = str(work / "registry.db")
    env = ansible_env(testbed, registry, work)
    try:
        reclaimed = reclaim_volumes(testbed)
        if reclaimed:
            print(f"{reclaimed} Released volumes of earlier runs returned to the testbed's pool")
        singles = [f"{PREFIX}single-{index}" for index in range(size["single"])]
        walls = [run_play(env, work, [name], "present", 1) for name in singles]
        total, own, _longest = describe(module_seconds(registry, singles))
        print(f"single: {len(singles)} vClusters, ansible wall median {statistics.median(walls):.2f}s, "
              f"module (registered -> Running) median {total:.2f}s, of it the module's own work {own:.2f}s")
        run_play(env, work, singles, "absent", size["forks"])

        names = [f"{PREFIX}{index:03d}" for index in range(size["count"])]
        wall = run_play(env, work, names, "present", size["forks"])
        median, own, longest = describe(module_seconds(registry, names))
        print(f"play: {len(names)} vClusters with {size['forks']} forks in {wall:.1f}s, all Running; "
              f"module (registered -> Running) median {median:.2f}s, max {longest:.2f}s; "
              f"module overhead (without the wait for the pods) median {own:.2f}s")
        print(f"stages (median time in each phase): {stage_medians(registry, names)}")
        removal = run_play(env, work, names, "absent", size["forks"])
        namespaces, roles, live = leftovers(testbed, registry)
        print(f"delete play: {removal:.1f}s; left behind: {len(namespaces)} namespaces, {len(roles)} cluster roles, "
              f"{live} live registry entries")
        if namespaces or roles or live:
            raise SystemExit("objects were left behind")
        print(f"ratio={own / GOAL_SECONDS:.3f}")
    finally:
        if fresh:
            testbed.stop()


if __name__ == "__main__":
    main()
