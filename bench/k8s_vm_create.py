"""K8s-on-VM create benchmark: playbooks/k8s_vm/create.yml against a plain script doing the same kubeadm steps.

One run on the testbed GPVE_TESTBED_ENV names (its fakepve is reset before, between and after the two
halves, which destroys every VM on it; hold the testbed lock), with fakepve's ``boot_vms`` on:

- collection: ``ansible-playbook create.yml`` as the real-cluster tests run it (tests/real_cluster.py: their
  spec and the vars a site sets for the testbed's VMs) for 1 control plane + WORKERS workers, no load balancer
  VM (type external at the control plane's own address). Its time: from the start of ansible-playbook until the
  cluster's API server (through the admin kubeconfig the run writes to its work directory) lists every node
  Ready. Its phases come from profile_tasks' elapsed time at the first task of each.
- floor: fresh VMs from the same spec, made by create.yml's own provisioning tasks (bench/k8s_vm_floor_vms.yml),
  then bench/k8s_vm_floor.sh over SSH: the same air-gap bundle, the files the roles rendered in the collection's
  run (init.yaml, containerd's config.toml and the sysctl file copied from its control plane, the CNI manifest the
  cni role wrote on the controller; each worker's join configuration rendered by the kubeadm role's own
  registration tasks and template, bench/k8s_vm_join_config.yml), the same kubeadm commands, the same CNI.

Printed: both totals, the time per phase (provision, ssh, node_prep, init, join, labels, cni, ready; labels is
create.yml labelling the nodes, which the floor does not), the collection's slowest tasks (profile_tasks), and
last ``ratio=`` collection / floor (goal: at most 1.3).

    python bench/k8s_vm_create.py [--size tiny|full]

``--size`` defaults to ``GPVE_BENCH_SIZE``, else full: 1 control plane + 2 workers. tiny: 1 + 1 (what
tests/integration/bench/test_bench_k8s_vm_create.py runs). Working files and logs: a temp directory, printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO / ".build" / "collections"
for import_root in (COLLECTIONS, REPO):
    if import_root.is_dir() and str(import_root) not in sys.path:
        sys.path.insert(0, str(import_root))

from kubernetes import client, config  # noqa: E402

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry  # noqa: E402
from tests.playbook_run import run_playbook  # noqa: E402
from tests.real_cluster import RealCluster, small_cluster_spec, testbed_vm_vars  # noqa: E402
from tests.testbed.testbed import Testbed  # noqa: E402

SIZES = {"full": 2, "tiny": 1}
GOAL = 1.3
CLUSTER = "bench"
PHASES = ("provision", "ssh", "node_prep", "init", "join", "labels", "cni", "ready")
# Where each phase after provision starts in create.yml's output.
MARKERS = {"ssh": "TASK [Wait until the VM answers SSH]", "node_prep": "TASK [gpve.cluster.node_prep : ",
           "init": "PLAY [Initialise the first control plane]", "join": "PLAY [Make the join material]",
           "labels": "PLAY [Register the nodes' labels and taints]", "cni": "TASK [Stage cni]",
           "ready": "TASK [Wait until every node is Ready]"}
# profile_tasks' line before each task: "<date> (<task time>)       <elapsed since the start>"
ELAPSED = re.compile(r"\(\d+:\d\d:\d\d\.\d+\)\s+(\d+):(\d\d):(\d\d\.\d+)")
# The files the roles render on the control plane, copied for the floor: (path there, name in the files dir).
RENDERED = (("/etc/kubernetes/gpve/init.yaml", "init.yaml"), ("/etc/containerd/config.toml", "config.toml"),
            ("/etc/sysctl.d/99-gpve-k8s.conf", "sysctl.conf"))


def open_testbed() -> Testbed:
    env_file = os.environ.get("GPVE_TESTBED_ENV")
    if not env_file or not Path(env_file).is_file():
        raise SystemExit("GPVE_TESTBED_ENV names no testbed: start one (make testbed-up) and source its env file")
    testbed = Testbed.load(Path(env_file).parent)
    testbed.ensure_running()
    return testbed


def fresh_vms(testbed: Testbed) -> None:
    """No VM left on fakepve, and the VMs it starts from now on boot."""
    testbed.pve_control.reset()
    testbed.pve_control.set("boot_vms", True)


class ReadyWatch(threading.Thread):
    """Seconds from start until the API server behind kubeconfig (once it exists) lists `count` nodes, all Ready."""

    def __init__(self, kubeconfig: Path, count: int, start: float):
        super().__init__(daemon=True)
        self.kubeconfig, self.count, self.start_time = kubeconfig, count, start
        self.seconds: float | None = None
        self.done = threading.Event()

    def run(self) -> None:
        api = None
        while not self.done.is_set() and self.seconds is None:
            if api is None and self.kubeconfig.exists():
                api = self._api()
            if api is not None and self._all_ready(api):
                self.seconds = time.monotonic() - self.start_time
            self.done.wait(1)

    def _api(self):
        try:
            return client.CoreV1Api(config.new_client_from_config(config_file=str(self.kubeconfig)))
        except Exception:  # pylint: disable=broad-except  # the file is being written: read it again
            return None

    def _all_ready(self, api) -> bool:
        try:
            nodes = api.list_node(_request_timeout=5).items
        except Exception:  # pylint: disable=broad-except  # the API server is not up yet: look again
            return False
        ready = [n for n in nodes if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])]
        return len(ready) == self.count


def phase_starts(log: str) -> dict[str, float]:
    """{phase: profile_tasks' elapsed seconds at its first task} from create.yml's output."""
    starts, pending = {}, []
    for line in log.splitlines():
        pending += [name for name, marker in MARKERS.items() if line.startswith(marker) and name not in starts]
        elapsed = ELAPSED.search(line)
        if elapsed and pending:
            hours, minutes, seconds = elapsed.groups()
            starts.update((name, int(hours) * 3600 + int(minutes) * 60 + float(seconds)) for name in pending)
            pending = []
    missing = [name for name in MARKERS if name not in starts]
    if missing:
        raise SystemExit(f"create.yml's output has no start of {', '.join(missing)}")
    return starts


def collection_phases(starts: dict[str, float], total: float) -> dict[str, float]:
    """Seconds per phase up to `total` (every node Ready): a phase that starts later counts 0 (the nodes are often
    Ready while the cni role still waits for its DaemonSet, before create.yml's own wait for Ready begins)."""
    bounds = [0.0] + [min(starts[name], total) for name in PHASES[1:]] + [total]
    return {name: bounds[i + 1] - bounds[i] for i, name in enumerate(PHASES)}


def task_times(log: str) -> list[tuple[str, float, float]]:
    """(task, elapsed seconds at its start, its seconds) for each task in create.yml's output (profile_tasks)."""
    started, task = [], None
    for line in log.splitlines():
        if line.startswith("TASK ["):
            task = line[len("TASK ["):line.rindex("]")]
        elapsed = ELAPSED.search(line)
        if elapsed and task:
            hours, minutes, seconds = elapsed.groups()
            started.append((task, int(hours) * 3600 + int(minutes) * 60 + float(seconds)))
            task = None
    return [(name, at, after - at) for (name, at), (_next, after) in zip(started, started[1:])]


def slowest_tasks(log: str, until: float, count: int = 8) -> list[str]:
    """The slowest tasks (all hosts and loop items of a task summed) that started before every node was Ready."""
    totals: dict[str, float] = {}
    for name, at, seconds in task_times(log):
        if at < until:
            totals[name] = totals.get(name, 0.0) + seconds
    return [f"{seconds:7.2f}s  {name}" for name, seconds in sorted(totals.items(), key=lambda item: -item[1])[:count]]


def init_retry_shown(log: str) -> str:
    """What the control plane showed when its first kubeadm init failed (the kubeadm role then inits once more),
    as create.yml printed it; empty when the first init succeeded."""
    shown = log.find("TASK [gpve.cluster.kubeadm : Show what the control plane showed")
    return log[shown:log.find("TASK [", shown + 1)] if shown >= 0 else ""


def run_collection(testbed: Testbed, workdir: Path, spec: dict) -> tuple[RealCluster, dict[str, float], str]:
    """create.yml until every node is Ready: (the cluster, its phases, its output)."""
    workdir.mkdir()
    cluster = RealCluster(workdir, testbed, CLUSTER, spec)
    cluster.check_addresses()
    count = spec["control_plane"]["replicas"] + sum(pool["replicas"] for pool in spec["workers"])
    watch = ReadyWatch(workdir / "work" / CLUSTER / "admin.conf", count, time.monotonic())
    watch.start()
    done = cluster.play("create", cni_manifest_dest=str(workdir / "cni.yaml"))
    watch.done.set()
    watch.join()
    if done.returncode != 0:
        raise SystemExit(f"create.yml failed ({done.returncode}); its output: {workdir}\n"
                         f"{init_retry_shown(done.stdout)}{done.stdout[-4000:]}")
    if watch.seconds is None:
        raise SystemExit(f"create.yml ended but the API server never listed {count} Ready nodes")
    return cluster, collection_phases(phase_starts(done.stdout), watch.seconds), done.stdout


def copy_rendered(cluster: RealCluster, control_plane: str, files: Path) -> None:
    """The files the roles wrote on the collection's control plane, into files/."""
    for path, name in RENDERED:
        shown = cluster.testbed.ssh(cluster.spec["ssh"]["user"], control_plane, f"sudo cat {path}", timeout=60)
        (files / name).write_text(shown.stdout)
    (files / "cni.yaml").write_text((cluster.dir / "cni.yaml").read_text())


def collection_control_plane(cluster: RealCluster) -> str:
    """The address of the collection's control plane, as the registry has it."""
    with open_registry(str(cluster.registry_path), actor="bench") as store:
        nodes = store.list_nodes(store.find_cluster(cluster.name).id)
    return next(node.ip_address for node in nodes if node.role == "control-plane")


def provision_floor(cluster: RealCluster, workdir: Path) -> tuple[list[dict], float]:
    """The floor's VMs by create.yml's own provisioning tasks: (the VMs, seconds)."""
    env = dict(cluster.env, GPVE_REGISTRY=str(workdir / "registry.db"))
    vms_file = workdir / "vms.json"
    started = time.monotonic()
    done = run_playbook(REPO / "bench" / "k8s_vm_floor_vms.yml", {
        "gpve_cluster_name": CLUSTER, "gpve_spec": cluster.spec, "floor_vms_file": str(vms_file)},
        env, workdir / "provision.log")
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"the floor's provisioning failed; its output: {workdir / 'provision.log'}")
    return json.loads(vms_file.read_text()), seconds


def render_joins(cluster: RealCluster, vms: list[dict], files: Path) -> None:
    """Each worker's join configuration, rendered by the kubeadm role with what create.yml gives it."""
    site = testbed_vm_vars(cluster.testbed)
    init = list(yaml.safe_load_all((files / "init.yaml").read_text()))
    endpoint = next(doc["controlPlaneEndpoint"] for doc in init if doc.get("kind") == "ClusterConfiguration")
    pools = {pool["name"]: pool for pool in cluster.spec["workers"]}
    for vm in (vm for vm in vms if vm["role"] == "worker"):
        pool = pools[vm["pool"]]
        done = run_playbook(REPO / "bench" / "k8s_vm_join_config.yml", {
            "floor_join_file": str(files / f"join-{vm['ip']}.yaml"), "kubeadm_control_plane_endpoint": endpoint,
            "kubeadm_kubernetes_version": cluster.spec["kubernetes_version"], "kubeadm_node_name": vm["name"],
            "kubeadm_node_ip": vm["ip"], "kubeadm_control_plane": False, "kubeadm_node_labels": pool.get("labels", {}),
            "kubeadm_node_taints": pool.get("taints", []),
            "kubeadm_ignore_preflight_errors": site["kubeadm_ignore_preflight_errors"],
            "kubeadm_timeouts": site["kubeadm_timeouts"]}, cluster.env, files / f"join-{vm['name']}.log")
        if done.returncode != 0:
            raise SystemExit(f"rendering {vm['name']}'s join configuration failed:\n{done.stdout[-3000:]}")


def run_floor(cluster: RealCluster, workdir: Path, files: Path, collection_cp: str) -> dict[str, float]:
    vms, provision = provision_floor(cluster, workdir)
    control_plane = next(vm["ip"] for vm in vms if vm["role"] == "control-plane")
    if control_plane != collection_cp:
        raise SystemExit(f"the floor's control plane is {control_plane}, the collection's was {collection_cp}: "
                         f"init.yaml names the collection's")
    render_joins(cluster, vms, files)
    workers = [vm["ip"] for vm in vms if vm["role"] == "worker"]
    env = dict(os.environ, FLOOR_SSH_KEY=cluster.testbed.ssh_key, FLOOR_SSH_USER=cluster.spec["ssh"]["user"])
    argv = ["bash", str(REPO / "bench" / "k8s_vm_floor.sh"), str(files), cluster.testbed.airgap_dir, control_plane,
            *workers]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1800, check=False)
    (workdir / "floor.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"k8s_vm_floor.sh failed ({done.returncode}):\n{done.stdout}{done.stderr[-3000:]}")
    phases = {"provision": provision, "labels": 0.0}
    phases.update((name, float(seconds)) for name, seconds in re.findall(r"^phase (\w+) ([0-9.]+)$", done.stdout, re.M))
    return phases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default=os.environ.get("GPVE_BENCH_SIZE", "full"))
    args = parser.parse_args(argv)
    testbed = open_testbed()
    workdir = Path(tempfile.mkdtemp(prefix="gpve-bench-k8s-vm-"))
    files = workdir / "files"
    files.mkdir()
    public_key = Path(f"{testbed.ssh_key}.pub").read_text().strip()
    spec = small_cluster_spec(public_key, workers=SIZES[args.size])
    print(f"K8s-on-VM create, {args.size}: 1 control plane + {SIZES[args.size]} workers, kubeadm "
          f"{spec['kubernetes_version']}, no load balancer VM; working files in {workdir}", flush=True)
    try:
        fresh_vms(testbed)
        cluster, ours, log = run_collection(testbed, workdir / "collection", spec)
        control_plane = collection_control_plane(cluster)
        copy_rendered(cluster, control_plane, files)
        fresh_vms(testbed)
        (workdir / "floor").mkdir()
        floor = run_floor(cluster, workdir / "floor", files, control_plane)
    finally:
        testbed.pve_control.reset()
    report(ours, floor, log)
    return 0


def report(ours: dict[str, float], floor: dict[str, float], log: str) -> None:
    width = max(map(len, PHASES))
    print(f"{'phase':<{width}}  collection    floor")
    for name in PHASES:
        print(f"{name:<{width}}  {ours[name]:9.1f}s {floor.get(name, 0.0):8.1f}s")
    total_ours, total_floor = sum(ours.values()), sum(floor.values())
    print(f"{'total':<{width}}  {total_ours:9.1f}s {total_floor:8.1f}s   (create.yml start to every node Ready)")
    print("collection's slowest tasks until every node was Ready (profile_tasks):\n  "
          + "\n  ".join(slowest_tasks(log, total_ours)))
    retry_shown = init_retry_shown(log)
    if retry_shown:
        print("the collection's first kubeadm init failed and the role ran it once more; the node showed:\n"
              + retry_shown)
    ratio = total_ours / total_floor
    print(f"collection / floor = {ratio:.3f} (goal <= {GOAL}: {'met' if ratio <= GOAL else 'NOT met'})")
    print(f"ratio={ratio:.3f}")


if __name__ == "__main__":
    sys.exit(main())
