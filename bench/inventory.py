"""Inventory benchmark: ``ansible-inventory --list`` with gpve.cluster.gpve against Ansible's own floor and community.proxmox.

A registry of CLUSTERS K8s-on-VM clusters with NODES VMs each (full: 1000 and 10,000) is
listed three ways, in one run:

- floor: the same hosts, groups and variables served as pre-built JSON by an inventory
  script (``cat`` of a file): what Ansible itself needs to take in that inventory. Its
  strings are marked unsafe (``__ansible_unsafe``) as the plugin's are, so both runs print
  the very same listing (checked: equal in full, variables included);
- ours: the ``gpve.cluster.gpve`` plugin reading the registry (SQLite);
- community.proxmox: ``community.proxmox.proxmox`` with ``want_facts: true`` over a fakepve
  process serving the same VMs (running, guest agent enabled, tagged as gpve tags them).

Goals: ours within 1.2 times the floor, and at least 20 times faster than community.proxmox.
The last line is ``ratio=`` ours / floor (at most 1.2 meets the goal).

Floor and ours are compared on CPU seconds (user + system of ``ansible-inventory`` and
everything it ran): on a shared machine wall-clock time mostly measures the neighbours.
Wall-clock times are printed beside them. community.proxmox is compared on wall-clock
time against our wall-clock time (the whole ``ansible-inventory --list`` command, what a
user waits for), since most of its cost is waiting for thousands of API answers (the fake's
own CPU included); its CPU time (ansible-inventory, and the fakepve server's during the
listing, read from /proc) is printed for reference, as a figure the neighbours' load does
not move. One more run of ours, not counted, splits its CPU time into phases:
start-up, the plugin's parse (registry read, model, hosts and groups), Ansible's
per-host variables, and Ansible's JSON output; all but the parse is Ansible's own work
for any inventory source of this size. The load average is printed before and after.

    python bench/inventory.py [--size tiny|full] [--repeat N] [--skip-proxmox]

``--size`` defaults to ``GPVE_BENCH_SIZE``, else full. Each of floor and ours is the best of
``--repeat`` runs (community.proxmox runs once).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO / ".build" / "collections"
for import_root in (COLLECTIONS, REPO):
    if import_root.is_dir() and str(import_root) not in sys.path:
        sys.path.insert(0, str(import_root))

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.inventory import model  # noqa: E402
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry  # noqa: E402

SIZES = {"full": {"clusters": 1000, "nodes": 10, "repeat": 3}, "tiny": {"clusters": 10, "nodes": 10, "repeat": 1}}
GOAL_FLOOR_RATIO = 1.2
GOAL_PROXMOX_SPEEDUP = 20.0
PVE_HOST = "127.0.0.3"
PVE_NODES = ("pve1", "pve2", "pve3")
BIN = Path(sys.executable).parent


def node_specs(index, count):
    name = f"bench-{index:04d}"
    nodes = []
    for number in range(count):
        role = "control-plane" if number < 3 else ("lb" if number == count - 1 else "worker")
        nodes.append({"name": f"{name}-n{number:02d}", "role": role, "pool_name": "general" if role == "worker" else None,
                      "vmid": str(100000 + index * 100 + number), "status": "Running",
                      "ip_address": f"10.{index // 250}.{index % 250}.{number + 10}",
                      "resources": {"proxmox_node": PVE_NODES[number % 3], "cores": 2, "memory": 2048, "disk_size": 20}})
    return nodes


def seed_registry(path, size):
    started = time.monotonic()
    clusters = []
    with open_registry(str(path), actor="bench", environ={}) as store:
        for index in range(size["clusters"]):
            cluster = store.create_cluster(f"bench-{index:04d}", "k8s-vm", spec={"distribution": "kubeadm", "kubernetes_version": "1.37.2"},
                                           labels={"env": ("prod", "staging", "dev")[index % 3], "team": f"t{index % 10}"},
                                           provider="proxmox")
            nodes = node_specs(index, size["nodes"])
            store.replace_nodes(cluster.id, nodes)
            lifecycle.transition(store, cluster.id, lifecycle.PROVISIONING, "Bench")
            clusters.append((cluster.id, nodes))
    print(f"seeded {size['clusters']} clusters, {size['clusters'] * size['nodes']} nodes in {time.monotonic() - started:.1f}s",
          flush=True)
    return clusters


def marked_unsafe(value):
    """value with every string in the inventory script's unsafe form, as the plugin's values are unsafe."""
    if isinstance(value, str):
        return {"__ansible_unsafe": value}
    if isinstance(value, dict):
        return {key: marked_unsafe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [marked_unsafe(item) for item in value]
    return value


def floor_inventory(registry, workdir):
    """The inventory script serving our exact hosts, groups and variables (strings unsafe) as pre-built JSON."""
    with open_registry(str(registry), environ={}) as store:
        clusters, nodes = model.read_snapshot(store, model.Filters())
        built = model.build(clusters, nodes, store.location)
    hostvars = {host: {name: marked_unsafe(value) for name, value in variables.items()} for host, variables in built["hosts"].items()}
    document = {"_meta": {"hostvars": hostvars}}
    for group, members in built["groups"].items():
        document[group] = {"hosts": members["hosts"], "children": members["children"]}
    data = workdir / "floor.json"
    data.write_text(json.dumps(document))
    script = workdir / "floor_inventory.sh"
    script.write_text(f"#!/bin/sh\nexec cat {data}\n")
    script.chmod(0o755)
    return script


def ansible_env(workdir, **extra):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "GPVE_"))}
    config = workdir / "ansible.cfg"
    config.write_text("[defaults]\n")
    env.update(ANSIBLE_CONFIG=str(config), ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_HOME=str(workdir / "home"),
               ANSIBLE_INVENTORY_UNPARSED_FAILED="1", ANSIBLE_NOCOLOR="1", PYTHONPATH=str(COLLECTIONS))
    env.update(extra)
    return env


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def list_inventory(source, env, workdir):
    """(wall seconds, CPU seconds, parsed output) of one ansible-inventory --list run."""
    out = workdir / "listing.json"
    started, cpu_before = time.monotonic(), _children_cpu()
    with open(out, "w", encoding="utf-8") as stdout:
        done = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(source), "--list"], stdout=stdout,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=str(workdir), check=False)
    elapsed, cpu = time.monotonic() - started, _children_cpu() - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"ansible-inventory -i {source} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, cpu, json.loads(out.read_text())


def best_of(repeat, source, env, workdir):
    """(best wall seconds, best CPU seconds, listing) over repeat runs."""
    walls, cpus, listing = [], [], None
    for _run in range(repeat):
        elapsed, cpu, listing = list_inventory(source, env, workdir)
        walls.append(elapsed)
        cpus.append(cpu)
    return min(walls), min(cpus), listing


PHASES = r"""
import atexit, sys, time
from ansible.cli.inventory import InventoryCLI, main
from ansible.inventory.manager import InventoryManager

spent = {}


def timed(owner, name, label):
    original = owner.__dict__[name]
    function = original.__func__ if isinstance(original, staticmethod) else original

    def wrapper(*args, **kwargs):
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.process_time() - started
    setattr(owner, name, staticmethod(wrapper) if isinstance(original, staticmethod) else wrapper)


spent["start-up"] = time.process_time()
timed(InventoryManager, "parse_sources", "plugin parse")
timed(InventoryCLI, "json_inventory", "Ansible per-host vars")
timed(InventoryCLI, "dump", "Ansible JSON output")
atexit.register(lambda: print(" ".join(f"{label}={seconds:.2f}" for label, seconds in spent.items())
                              + f" total={time.process_time():.2f}", file=sys.stderr))
sys.argv[0] = "ansible-inventory"
main()
"""


def phases(source, env, workdir):
    """CPU seconds by phase of one ansible-inventory --list run (its own process only)."""
    runner = workdir / "phases.py"
    runner.write_text(PHASES)
    done = subprocess.run([sys.executable, str(runner), "-i", str(source), "--list"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, env=env, cwd=str(workdir), check=False)
    if done.returncode != 0:
        raise SystemExit(f"phases of ansible-inventory -i {source} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stderr.strip().splitlines()[-1]


def load():
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def free_port(host):
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def guests(clusters):
    """fakepve guests: the registry's VMs, running with their tags, resources and guest agent."""
    found = []
    for cluster_id, nodes in clusters:
        for node in nodes:
            tags = [f"gpve-cluster-{cluster_id}", f"gpve-role-{node['role']}"]
            if node["pool_name"]:
                tags.append(f"gpve-pool-{node['pool_name']}")
            vmid = int(node["vmid"])
            found.append({"vmid": vmid, "name": node["name"], "node": node["resources"]["proxmox_node"], "status": "running",
                          "config": {"cores": 2, "sockets": 1, "memory": 2048, "tags": ";".join(sorted(tags)),
                                     "agent": "enabled=1", "ostype": "l26", "scsi0": f"local-lvm:vm-{vmid}-disk-0,size=20G",
                                     "net0": f"virtio=BC:24:11:{vmid // 65536 % 256:02X}:{vmid // 256 % 256:02X}:{vmid % 256:02X},"
                                             "bridge=vmbr0",
                                     "ipconfig0": f"ip={node['ip_address']}/16,gw=10.0.0.1"}})
    return found


def start_fakepve(clusters, workdir):
    """(process, url, password, ca file) of a fakepve serving the clusters' VMs."""
    from fakepve.certs import make_cert

    certfile, keyfile, _der = make_cert(str(workdir), hosts=(PVE_HOST,))
    (workdir / "guests.json").write_text(json.dumps({"guests": guests(clusters)}))
    port, password = free_port(PVE_HOST), "bench-" + os.urandom(6).hex()
    log = open(workdir / "fakepve.log", "w", encoding="utf-8")  # pylint: disable=consider-using-with
    process = subprocess.Popen([sys.executable, "-m", "fakepve", str(workdir / "guests.json"), "--host", PVE_HOST,
                                "--port", str(port), "--password", password, "--time-scale", "0", "--cert", certfile,
                                "--key", keyfile], stdout=log, stderr=subprocess.STDOUT, cwd=str(workdir))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"fakepve exited: {(workdir / 'fakepve.log').read_text()[-2000:]}")
        with socket.socket() as probe:
            if probe.connect_ex((PVE_HOST, port)) == 0:
                return process, f"https://{PVE_HOST}:{port}", password, certfile
        time.sleep(0.2)
    process.kill()
    raise SystemExit("fakepve did not start listening within 120s")


def process_cpu(pid):
    """CPU seconds (user + system) a running process has used so far, from /proc; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_community_proxmox(clusters, workdir):
    """(wall seconds, CPU seconds of ansible-inventory, CPU seconds of fakepve or None, VM hosts listed)."""
    process, url, password, cafile = start_fakepve(clusters, workdir)
    try:
        source = workdir / "bench.proxmox.yml"
        source.write_text(f"plugin: community.proxmox.proxmox\nurl: {url}\nuser: root@pam\npassword: {password}\n"
                          "validate_certs: true\nwant_facts: true\n")
        # The plugin ignores validate_certs for its login request: trust the fake's certificate for requests itself.
        env = ansible_env(workdir, REQUESTS_CA_BUNDLE=cafile)
        server_before = process_cpu(process.pid)
        elapsed, cpu, listing = list_inventory(source, env, workdir)
        server_after = process_cpu(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    vms = [host for host, variables in listing["_meta"]["hostvars"].items() if "proxmox_vmid" in variables]
    server_cpu = None if server_before is None or server_after is None else server_after - server_before
    return elapsed, cpu, server_cpu, len(vms)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default=os.environ.get("GPVE_BENCH_SIZE", "full"))
    parser.add_argument("--repeat", type=int, help="runs of floor and ours, the best counts (default: 3 full, 1 tiny)")
    parser.add_argument("--skip-proxmox", action="store_true", help="leave out the community.proxmox comparison")
    args = parser.parse_args()
    size = dict(SIZES[args.size])
    repeat = args.repeat or size["repeat"]
    hosts = size["clusters"] * size["nodes"]
    print(f"== inventory benchmark, size {args.size}: {size['clusters']} clusters, {hosts} nodes; {os.cpu_count()} CPUs, {load()}",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="gpve-bench-inventory-") as temporary:
        workdir = Path(temporary)
        registry = workdir / "registry" / "registry.db"
        clusters = seed_registry(registry, size)
        ours_source = workdir / "bench.gpve.yml"
        ours_source.write_text(f"plugin: gpve.cluster.gpve\nregistry: {registry}\n")
        env = ansible_env(workdir)
        floor_seconds, floor_cpu, floor_listing = best_of(repeat, floor_inventory(registry, workdir), env, workdir)
        ours_seconds, ours_cpu, ours_listing = best_of(repeat, ours_source, env, workdir)
        same = floor_listing == ours_listing
        print(f"floor (inventory script, pre-built JSON): {floor_cpu:.2f}s CPU, {floor_seconds:.2f}s wall", flush=True)
        print(f"ours (gpve.cluster.gpve):                 {ours_cpu:.2f}s CPU, {ours_seconds:.2f}s wall; same hosts, groups "
              f"and variables as the floor: {'yes' if same else 'NO'}", flush=True)
        if not same:
            raise SystemExit("the floor and the plugin disagree on hosts, groups or variables")
        print(f"ours by phase (one more run, CPU seconds of ansible-inventory itself): {phases(ours_source, env, workdir)}",
              flush=True)
        if not args.skip_proxmox:
            proxmox_seconds, proxmox_cpu, server_cpu, vm_hosts = time_community_proxmox(clusters, workdir)
            speedup = proxmox_seconds / ours_seconds
            print(f"community.proxmox (want_facts, {vm_hosts} VMs): {proxmox_seconds:.2f}s wall -> ours is {speedup:.1f}x faster "
                  f"wall to wall (goal >= {GOAL_PROXMOX_SPEEDUP:.0f}x: {'met' if speedup >= GOAL_PROXMOX_SPEEDUP else 'NOT met'})",
                  flush=True)
            server = f" + {server_cpu:.2f}s fakepve" if server_cpu is not None else ""
            print(f"community.proxmox CPU, for reference: {proxmox_cpu:.2f}s ansible-inventory{server}"
                  f" = {(proxmox_cpu + (server_cpu or 0)) / ours_cpu:.1f}x ours", flush=True)
        ratio = ours_cpu / floor_cpu
        print(f"ours / floor = {ratio:.3f} in CPU time, {ours_seconds / floor_seconds:.3f} wall-clock "
              f"(goal <= {GOAL_FLOOR_RATIO}: {'met' if ratio <= GOAL_FLOOR_RATIO else 'NOT met'})")
        print(f"after: {load()}")
        print(f"ratio={ratio:.3f}")


if __name__ == "__main__":
    main()
