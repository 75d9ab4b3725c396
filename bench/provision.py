"""Provisioning benchmark: gpve_k8s_vm against community.proxmox.proxmox_kvm creating the same VMs one after another.

A dedicated fakepve (the testbed's launcher and seed: three nodes, a cloud-init template on
each, guest agents that report the address cloud-init gave the VM once it booted) runs at a
bench time scale where a guest boots in a few seconds. In one run, each measured as the
wall time of one ``ansible-playbook`` process:

- one VM: ``gpve.cluster.gpve_k8s_vm`` for a cluster of one control plane (clone, configure,
  start, wait for the agent to report the address): one VM's own critical path;
- ours: ``gpve_k8s_vm`` for CONTROL_PLANES control planes + WORKERS workers (full: 3 + 10);
- baseline: the same VMs (names, VMIDs, Proxmox nodes, addresses and settings ours planned)
  created one after another with ``community.proxmox.proxmox_kvm`` (clone, update, start)
  and ``community.proxmox.proxmox_vm_info`` polled every second (retries/until) until the
  guest agent reports the address: the same work, serially.

The fake is reset between the runs, so each starts from the seed alone. Goals: ours at
least 6 times faster than the baseline, and within 1.5 times one VM's critical path. The
last line is ``ratio=`` baseline / ours.

    python bench/provision.py [--size tiny|full]

``--size`` defaults to ``GPVE_BENCH_SIZE``, else full. tiny: 1 control plane + 1 worker at
a faster time scale (what tests/integration/test_bench_provision.py runs).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO / ".build" / "collections"
for import_root in (COLLECTIONS, REPO):
    if import_root.is_dir() and str(import_root) not in sys.path:
        sys.path.insert(0, str(import_root))

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry  # noqa: E402
from tests.testbed.layout import Layout  # noqa: E402
from tests.testbed.pki import CertificateAuthority, write_private  # noqa: E402
from tests.testbed.pve import prepare  # noqa: E402
from tests.testbed.pve_agent import CloudInitAgent  # noqa: E402
from tests.testbed.pve_control import PveControl  # noqa: E402
from tests.testbed.pve_seed import TEMPLATE_DISK_GIB, TEMPLATE_NAME, TEMPLATE_VMIDS  # noqa: E402

# time_scale: real seconds per PVE second; a guest's agent answers agent_boot_secs PVE seconds after its start.
SIZES = {"full": {"control_planes": 3, "workers": 10, "time_scale": 0.5},
         "tiny": {"control_planes": 1, "workers": 1, "time_scale": 0.1}}
GOAL_SPEEDUP = 6.0
GOAL_CRITICAL_PATH = 1.5
BIN = Path(sys.executable).parent
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3RiZWQta2V5LWZvci1ncHZlLWs4cy12bQ bench@gpve"
NETWORK = {"ip_allocation": "static", "ip_range": {"start": "10.30.0.10", "end": "10.30.0.90"}, "prefix": 24,
           "gateway": "10.30.0.1", "dns": ["10.30.0.2"]}
RESOURCES = {"cores": 2, "memory": 1024, "disk_size": TEMPLATE_DISK_GIB}  # the template's disk: no resize on either side


def cluster_spec(name, control_planes, workers):
    workers_pools = [{"name": "w", "replicas": workers, "resources": RESOURCES}] if workers else []
    return {"name": name, "control_plane": {"replicas": control_planes, "resources": RESOURCES},
            "workers": workers_pools, "network": {"vm_network": NETWORK},
            "load_balancer": {"type": "kube-vip", "virtual_ip": "10.30.0.5"}, "ssh": {"public_keys": [SSH_KEY]}}


# ------------------------------------------------------------------ fakepve


@contextmanager
def bench_fakepve(workdir, time_scale):
    """(endpoint, control) of a fakepve of our own, seeded as the testbed's, stopped at the end."""
    layout = Layout(workdir / "fakepve")
    layout.create()
    endpoint, component = prepare(layout, CertificateAuthority.create(layout.pki), time_scale=time_scale)
    component.start()
    try:
        component.wait_ready()
        yield endpoint, PveControl(endpoint.control_url, endpoint.control_token)
    finally:
        component.stop()


def guests(control):
    """VMs that are not templates: [(name, status, ipconfig0)]."""
    return sorted((vm["name"], vm["status"], vm["config"].get("ipconfig0", ""))
                  for vm in control.state()["vms"] if not vm["template"])


def check_vms(control, expected):
    """Every expected VM (name -> address) runs with that address and nothing else exists."""
    found = guests(control)
    wanted = sorted((name, "running", f"ip={ip}/{NETWORK['prefix']},gw={NETWORK['gateway']}")
                    for name, ip in expected.items())
    if found != wanted:
        raise SystemExit(f"the VMs in Proxmox are not the expected ones:\n  found  {found}\n  wanted {wanted}")


# ------------------------------------------------------------------ ansible-playbook


def ansible_env(workdir, endpoint):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "GPVE_"))}
    config = workdir / "ansible.cfg"
    config.write_text("[defaults]\n")
    env.update(ANSIBLE_CONFIG=str(config), ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_HOME=str(workdir / "home"),
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_NOCOLOR="1", PYTHONPATH=str(COLLECTIONS),
               # community.proxmox verifies through requests' own CA bundle (it has no CA option).
               REQUESTS_CA_BUNDLE=endpoint.ca_path)
    return env


def write_yaml(path, document, private=False):
    text = yaml.safe_dump(document, sort_keys=False)
    if private:
        write_private(path, text.encode())
    else:
        path.write_text(text)
    return path


def run_playbook(playbook, env, workdir, label):
    """Seconds one ansible-playbook run took; exits with its output when it fails."""
    log = workdir / f"{playbook.stem}.log"
    started = time.monotonic()
    with open(log, "w", encoding="utf-8") as out:
        done = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)],
                              stdout=out, stderr=subprocess.STDOUT, env=env, cwd=str(workdir), check=False)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{label}: ansible-playbook failed ({done.returncode}):\n{log.read_text()[-4000:]}")
    return elapsed


def connection_vars(workdir, endpoint):
    """The 0600 vars file both playbooks read their Proxmox connection from."""
    return write_yaml(workdir / "connection.yml", {
        "pve_url": endpoint.url, "pve_host": endpoint.host, "pve_port": endpoint.port, "pve_user": endpoint.user,
        "pve_password": endpoint.password, "pve_ca": endpoint.ca_path}, private=True)


def ours_playbook(workdir, name, spec, registry):
    module_args = dict(spec, registry=str(registry), api_url="{{ pve_url }}", api_user="{{ pve_user }}",
                       api_password="{{ pve_password }}", ca_path="{{ pve_ca }}", agent_timeout=300)
    play = {"name": f"gpve_k8s_vm: {name}", "hosts": "localhost", "gather_facts": False,
            "vars_files": [str(workdir / "connection.yml")],
            "tasks": [{"name": "Provision the cluster's VMs", "gpve.cluster.gpve_k8s_vm": module_args}]}
    return write_yaml(workdir / f"ours-{name}.yml", [play])


PVE_AUTH = {"api_host": "{{ pve_host }}", "api_port": "{{ pve_port }}", "api_user": "{{ pve_user }}",
            "api_password": "{{ pve_password }}", "validate_certs": True}


def baseline_vm_tasks():
    """One VM, as someone writes it with community.proxmox: clone, update, start, wait for the agent's address."""
    vm_id = {"node": "{{ vm.node }}", "vmid": "{{ vm.vmid }}"}
    addresses = ("(bench_info.proxmox_vms | default([{}]) | first).network | default([])"
                 " | map(attribute='ip-addresses') | flatten | map(attribute='ip-address') | list")
    return [
        {"name": "Clone {{ vm.name }}", "community.proxmox.proxmox_kvm": dict(
            PVE_AUTH, node="{{ vm.node }}", vmid="{{ vm.template }}", clone=TEMPLATE_NAME, newid="{{ vm.vmid }}",
            name="{{ vm.name }}", full=True, storage="local-lvm", timeout=300)},
        {"name": "Configure {{ vm.name }}", "community.proxmox.proxmox_kvm": dict(
            PVE_AUTH, update=True, name="{{ vm.name }}", cores="{{ vm.cores }}", sockets=1, memory="{{ vm.memory }}",
            agent="enabled=1", ciuser="ubuntu", sshkeys=SSH_KEY, ipconfig={"ipconfig0": "{{ vm.ipconfig0 }}"},
            nameservers=NETWORK["dns"], tags="{{ vm.tags }}", description="{{ vm.description }}", **vm_id)},
        {"name": "Start {{ vm.name }}", "community.proxmox.proxmox_kvm": dict(PVE_AUTH, state="started", **vm_id)},
        {"name": "Wait until the guest agent of {{ vm.name }} reports {{ vm.ip }}",
         "community.proxmox.proxmox_vm_info": dict(PVE_AUTH, type="qemu", network=True, **vm_id),
         "register": "bench_info", "until": f"vm.ip in ({addresses})", "retries": 300, "delay": 1},
    ]


def baseline_playbook(workdir, vms):
    write_yaml(workdir / "baseline_vm.yml", baseline_vm_tasks())
    play = {"name": "community.proxmox.proxmox_kvm, one VM after another", "hosts": "localhost", "gather_facts": False,
            "vars_files": [str(workdir / "connection.yml")], "vars": {"bench_vms": vms},
            "tasks": [{"name": "Create the VMs one after another", "ansible.builtin.include_tasks": "baseline_vm.yml",
                       "loop": "{{ bench_vms }}", "loop_control": {"loop_var": "vm", "label": "{{ vm.name }}"}}]}
    return write_yaml(workdir / "baseline.yml", [play])


def planned_vms(registry, name):
    """The VMs ours made, as the baseline creates them: same names, VMIDs, nodes, addresses and settings."""
    with open_registry(str(registry), environ={}) as store:
        cluster = store.find_cluster(name)
        nodes = store.list_nodes(cluster.id)
    vms = []
    for node in sorted(nodes, key=lambda n: int(n.vmid)):
        proxmox_node = node.resources["proxmox_node"]
        tags = [f"gpve-cluster-{cluster.id}", f"gpve-role-{node.role}"] + ([f"gpve-pool-{node.pool_name}"] if node.pool_name else [])
        vms.append({"name": node.name, "vmid": int(node.vmid), "node": proxmox_node, "template": TEMPLATE_VMIDS[proxmox_node],
                    "ip": node.ip_address, "cores": RESOURCES["cores"], "memory": RESOURCES["memory"], "tags": tags,
                    "ipconfig0": f"ip={node.ip_address}/{NETWORK['prefix']},gw={NETWORK['gateway']}",
                    "description": f"baseline copy of {node.name}"})
    return vms


# ------------------------------------------------------------------ the runs


def time_ours(workdir, env, control, name, spec):
    """(seconds, {name: address}) of one gpve_k8s_vm run from the seed."""
    control.reset()
    registry = workdir / f"registry-{name}" / "registry.db"
    seconds = run_playbook(ours_playbook(workdir, name, spec, registry), env, workdir, f"gpve_k8s_vm {name}")
    vms = planned_vms(registry, name)
    made = {vm["name"]: vm["ip"] for vm in vms}
    check_vms(control, made)
    return seconds, registry


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default=os.environ.get("GPVE_BENCH_SIZE", "full"))
    args = parser.parse_args()
    size = SIZES[args.size]
    count = size["control_planes"] + size["workers"]
    boot = CloudInitAgent.agent_boot_secs * size["time_scale"]
    print(f"== provisioning benchmark, size {args.size}: {size['control_planes']} control planes + {size['workers']} "
          f"workers on fakepve, time scale {size['time_scale']} (a guest's agent answers {boot:.1f}s after its start)",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="gpve-bench-provision-") as temporary:
        workdir = Path(temporary)
        with bench_fakepve(workdir, size["time_scale"]) as (endpoint, control):
            env = ansible_env(workdir, endpoint)
            connection_vars(workdir, endpoint)
            one, _registry = time_ours(workdir, env, control, "one", cluster_spec("one", 1, 0))
            print(f"one VM, gpve_k8s_vm (its critical path):      {one:6.1f}s", flush=True)
            ours, registry = time_ours(workdir, env, control, "bench",
                                       cluster_spec("bench", size["control_planes"], size["workers"]))
            critical = ours / one
            print(f"{count} VMs, gpve_k8s_vm:                       {ours:6.1f}s  = {critical:.2f}x one VM's critical path "
                  f"(goal <= {GOAL_CRITICAL_PATH}: {'met' if critical <= GOAL_CRITICAL_PATH else 'NOT met'})", flush=True)
            vms = planned_vms(registry, "bench")
            control.reset()
            baseline = run_playbook(baseline_playbook(workdir, vms), env, workdir, "baseline")
            check_vms(control, {vm["name"]: vm["ip"] for vm in vms})
            ratio = baseline / ours
            print(f"{count} VMs, proxmox_kvm one after another:    {baseline:6.1f}s  -> ours is {ratio:.1f}x faster "
                  f"(goal >= {GOAL_SPEEDUP:.0f}x: {'met' if ratio >= GOAL_SPEEDUP else 'NOT met'})", flush=True)
            print(f"ratio={ratio:.2f}")


if __name__ == "__main__":
    main()
