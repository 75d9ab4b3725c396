"""The demo's K8s-on-VM cluster: a real kubeadm cluster made by playbooks/k8s_vm/create.yml on booted VMs.

gpve_k8s_vm provisions the VMs on the testbed's fakepve (clones, config, cloud-init, start, guest
agent addresses) and records them. With fakepve's ``boot_vms`` on, every VM it starts boots as a
machine of its own (docs/testbed.md), so create.yml runs its roles inside the VMs over SSH, for
real: node_prep, the load balancer (haproxy and keepalived, HA only), kubeadm init and join,
flannel, metrics-server, all from the air-gap bundle the testbed builds. The spec and the site
vars are the real-cluster tests' (tests/real_cluster.py): 1 control plane + 1 worker and no load
balancer VM (its API endpoint is the control plane's address), or with ``--ha`` 3 control planes
behind an haproxy VM holding a virtual IP, and 2 workers. The step ends with ``kubectl get nodes -o
wide`` from the new cluster's own API server, through the admin kubeconfig the registry keeps.
"""

from __future__ import annotations

from pathlib import Path

from tests.real_cluster import registry_kubeconfig, small_cluster_spec, testbed_vm_vars
from tests.testbed import network
from tests.testbed.layout import REPO_ROOT

CLUSTER = "demo"
CREATE = REPO_ROOT / "playbooks" / "k8s_vm" / "create.yml"
REMOVE = Path(__file__).with_name("remove_cluster.yml")


class Progress:
    """Which lines of create.yml's output to show as it runs: plays that have hosts, failures, the recap."""

    def __init__(self):
        self.play = None

    def __call__(self, line: str) -> bool:
        if line.startswith("PLAY ["):
            self.play = line
            return False
        if self.play is not None and line.strip():
            play, self.play = self.play, None
            if "no hosts matched" not in line:
                print("  " + play.rstrip(), flush=True)
        return line.startswith(("fatal:", "failed:")) or (": ok=" in line and "changed=" in line)


def demo_spec(demo) -> dict:
    public_key = Path(f"{demo.testbed.ssh_key}.pub").read_text().strip()
    spec = small_cluster_spec(public_key, high_availability=demo.high_availability,
                              workers=2 if demo.high_availability else 1)
    spec["labels"] = {"env": "demo", "team": "platform"}
    return spec


def _describe(spec: dict) -> str:
    workers = sum(pool["replicas"] for pool in spec["workers"])
    lb = spec["load_balancer"]
    balancer = (f"an haproxy VM, virtual IP {lb['virtual_ip']}" if lb.get("virtual_ip")
                else f"no load balancer VM, API at {lb['external_address']}")
    return f"{spec['control_plane']['replicas']} control plane(s) + {workers} worker(s), {balancer}"


def create_cluster(demo) -> None:
    """Run create.yml for the demo cluster on booted VMs; arrange its removal when the demo gives a reused testbed back."""
    spec = demo_spec(demo)
    vip = spec["load_balancer"].get("virtual_ip")
    for address in [*spec["network"]["vm_network"]["ip_range"].values(), *([vip] if vip else [])]:
        network.require_testbed_address(address)
    settings = demo.private_vars("create-vars.yml", {
        "gpve_registry": str(demo.registry), "gpve_proxmox": demo.proxmox(), "gpve_cluster_spec": spec,
        "gpve_work_dir": str(demo.workdir / "work"), **testbed_vm_vars(demo.testbed)})
    control = demo.testbed.pve_control
    booted = control.state()["boot_vms"]
    control.set("boot_vms", True)
    demo.undo.append(lambda: control.set("boot_vms", booted))
    demo.undo.append(lambda: _remove(demo, settings))

    print(f"\n== K8s-on-VM: {CREATE.relative_to(REPO_ROOT)} for cluster '{CLUSTER}' ({_describe(spec)}, kubeadm "
          f"{spec['kubernetes_version']}), Proxmox {demo.testbed.pve.url} (fakepve, boot_vms on: each VM boots), "
          f"registry {demo.registry}")
    print("Every role runs inside the VMs over SSH, from the testbed's air-gap bundle (a few minutes).", flush=True)
    demo.playbook(CREATE, "-e", f"gpve_cluster_name={CLUSTER}", "-e", f"@{settings}", log_name="create.log",
                  show=Progress())
    kubeconfig = registry_kubeconfig(demo.registry, CLUSTER, demo.workdir / "demo-admin.conf")
    kubectl = Path(demo.testbed.record["kube"]["bin_dir"]) / "kubectl"
    print(f"\n== kubectl get nodes -o wide, from the demo cluster's own API server (its admin kubeconfig from the "
          f"registry: {kubeconfig})")
    print(demo.run([str(kubectl), f"--kubeconfig={kubeconfig}", "get", "nodes", "-o", "wide"]).rstrip())


def _remove(demo, settings: Path) -> None:
    demo.playbook(REMOVE, "-e", f"gpve_cluster_name={CLUSTER}", "-e", f"@{settings}", log_name="remove.log")
    print("Removed the demo cluster's VMs (registry row kept as Deleted)")
