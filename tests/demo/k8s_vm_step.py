"""The demo's K8s-on-VM cluster: playbooks/k8s_vm/create.yml against the testbed's fakepve, SQLite registry.

gpve_k8s_vm really provisions the VMs on fakepve (clones, config, cloud-init, start, guest
agent addresses) and records them. fakepve's VMs are API objects with no operating system,
so nothing can SSH into them: create.yml runs with its documented switch
``gpve_skip_guest_steps=true``, under which the bootstrap roles record each in-VM step
instead of running it, the testbed's API server stands in for the cluster's own
(``gpve_guest_kubeconfig``), and the node stand-in (``tests/testbed/node_standin.py``)
registers each VM as a Node when a recorded kubeadm init/join would have started its
kubelet. Everything else (registry, phases, events, CNI on the API, node labels, the admin
kubeconfig stored encrypted) runs for real.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tests.testbed.layout import REPO_ROOT
from tests.testbed.node_standin import NodeStandin

from .api_leftovers import ApiLeftovers

CLUSTER = "demo"
SPEC = Path(__file__).with_name("demo_cluster.yml")
CREATE = REPO_ROOT / "playbooks" / "k8s_vm" / "create.yml"
REMOVE = Path(__file__).with_name("remove_cluster.yml")
WHY_SKIPPED = (
    "Bootstrap roles: skipped inside the VMs (gpve_skip_guest_steps=true). fakepve's VMs are API objects with no "
    "operating system to SSH into, so node_prep, loadbalancer and kubeadm record each in-VM step instead of "
    "running it; the testbed's API server stands in for the cluster's own, and a kubelet stand-in registers each "
    "VM as a Node when its recorded kubeadm init/join would have started the kubelet.")


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


def _skipped_steps(record: Path) -> Counter:
    steps = Counter()
    if record.exists():
        for line in record.read_text().splitlines():
            steps[json.loads(line)["step"]] += 1
    return steps


def create_cluster(demo) -> None:
    """Run create.yml for the demo cluster; arrange its removal when the demo gives a reused testbed back."""
    record = demo.workdir / "guest-steps.jsonl"
    record.unlink(missing_ok=True)
    settings = demo.private_vars("create-vars.yml", {
        "gpve_registry": str(demo.registry), "gpve_proxmox": demo.proxmox(),
        "gpve_skip_guest_steps": True, "gpve_guest_kubeconfig": demo.testbed.kubeconfig,
        "gpve_guest_record": str(record), "gpve_work_dir": str(demo.workdir / "work")})
    leftovers = ApiLeftovers(demo.testbed.kubeconfig)
    leftovers.note()
    kubelets = NodeStandin(demo.testbed.kubeconfig).follow_record(record).start()
    demo.closing.append(lambda: kubelets.stop(delete_nodes=demo.undoing))
    demo.closing.append(leftovers.close)
    demo.undo.append(lambda: _remove(demo, settings, leftovers))

    print(f"\n== K8s-on-VM: {CREATE.relative_to(REPO_ROOT)} for cluster '{CLUSTER}' "
          f"(spec {SPEC.relative_to(REPO_ROOT)}), Proxmox {demo.testbed.pve.url} (fakepve), registry {demo.registry}")
    print(WHY_SKIPPED, flush=True)
    demo.playbook(CREATE, "-e", f"gpve_cluster_name={CLUSTER}", "-e", f"@{SPEC}", "-e", f"@{settings}",
                  log_name="create.log", show=Progress())
    steps = _skipped_steps(record)
    print(f"Guest steps recorded instead of run ({sum(steps.values())}, in {record}): "
          + ", ".join(f"{name} x{count}" for name, count in sorted(steps.items())))
    print(f"Nodes the kubelet stand-in registered: {', '.join(kubelets.names)} (on the testbed's API server, "
          f"beside its own {len(demo.testbed.node_names)} stand-in nodes)")


def _remove(demo, settings: Path, leftovers: ApiLeftovers) -> None:
    demo.playbook(REMOVE, "-e", f"gpve_cluster_name={CLUSTER}", "-e", f"@{settings}", log_name="remove.log")
    removed = leftovers.remove_new()
    print(f"Removed the demo cluster's VMs (registry row kept as Deleted) and from the API server: "
          f"{', '.join(removed) or 'nothing else'}")
