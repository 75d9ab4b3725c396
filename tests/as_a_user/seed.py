"""A registry holding all three cluster types, written through the store API as the modules write it."""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry

# A secret that must never show up in inventory output or module results.
CANARY_SECRET = "canary-secret-7f3d9c"
TEMPLATE_LABEL = "{{ lookup('ansible.builtin.pipe', 'echo pwned') }}"
K8S_VM_PATH = ("Provisioning", "Bootstrapping", "Installing", "Running")
VCLUSTER_PATH = ("Provisioning", "Initializing", "Starting", "Running")


def k8s_vm_nodes(name, first_octet=1, pools=(("general", 2), ("storage", 1)), control_planes=3):
    """Nodes of a K8s-on-VM cluster on loopback addresses 127.0.<first_octet>.N (reachable on this machine)."""
    nodes, index = [], 1

    def add(node_name, role, pool=None):
        nonlocal index
        nodes.append({"name": node_name, "role": role, "pool_name": pool, "vmid": str(1000 + 100 * first_octet + index),
                      "ip_address": f"127.0.{first_octet}.{index}", "status": "Running",
                      "labels": {"disk": "ssd"} if pool == "storage" else {},
                      "resources": {"proxmox_node": f"pve{(index - 1) % 3 + 1}", "cores": 2, "memory": 1024, "disk_size": 20}})
        index += 1

    for number in range(1, control_planes + 1):
        add(f"{name}-cp-{number}", "control-plane")
    for pool, count in pools:
        for number in range(1, count + 1):
            add(f"{name}-{pool}-{number}", "worker", pool)
    add(f"{name}-lb", "lb")
    return nodes


def walk(store, cluster_id, phases, **fields):
    for phase in phases:
        lifecycle.transition(store, cluster_id, phase, "Seeded", **fields)


def seed_three_types(location, encryption_key=None):
    """prod-eu1 (k8s-vm, Running, 7 nodes), dev-eu1 (k8s-vm, Provisioning, 3 nodes), team-a (vcluster,
    Running), team-b (vcluster, Failed), ext-gke (external, Running), ext-old (external, Pending).
    Returns {name: cluster id}."""
    ids = {}
    with open_registry(location, encryption_key=encryption_key, actor="seed", environ={}) as store:
        prod = store.create_cluster("prod-eu1", "k8s-vm", spec={"distribution": "kubeadm", "kubernetes_version": "1.37.2"},
                                    labels={"env": "prod", "team": "payments"}, provider="proxmox")
        store.replace_nodes(prod.id, k8s_vm_nodes("prod-eu1", 1))
        walk(store, prod.id, K8S_VM_PATH, endpoint="https://127.0.1.7:6443", version="v1.37.2", node_count=6, ready_nodes=6)
        store.put_credential(prod.id, "kubeconfig", f"apiVersion: v1\nkind: Config\nusers: [{{name: a, user: {{token: {CANARY_SECRET}}}}}]\n")
        dev = store.create_cluster("dev-eu1", "k8s-vm", spec={"distribution": "k3s", "kubernetes_version": "1.37.2"},
                                   labels={"env": "dev", "team": "payments"}, provider="proxmox")
        store.replace_nodes(dev.id, k8s_vm_nodes("dev-eu1", 2, pools=(("general", 1),), control_planes=1))
        walk(store, dev.id, K8S_VM_PATH[:1])
        team_a = store.create_cluster("team-a", "vcluster", spec={"kubernetes_version": "1.37.2", "isolation_mode": "namespace"},
                                      labels={"env": "dev", "team": "search", "note": TEMPLATE_LABEL})
        walk(store, team_a.id, VCLUSTER_PATH, endpoint="https://team-a.vc.example:443", version="v1.37.2")
        team_b = store.create_cluster("team-b", "vcluster", spec={"kubernetes_version": "1.36.3", "isolation_mode": "container"},
                                      labels={"env": "prod", "team": "search"})
        walk(store, team_b.id, ("Provisioning",))
        lifecycle.transition(store, team_b.id, "Failed", "Seeded", "statefulset never became ready")
        gke = store.create_cluster("ext-gke", "external", spec={"endpoint": "https://34.1.2.3"}, labels={"env": "prod"},
                                   provider="gke")
        walk(store, gke.id, ("Connecting", "Running"), endpoint="https://34.1.2.3", version="v1.30.2", node_count=12,
             ready_nodes=11, pod_count=140)
        old = store.create_cluster("ext-old", "external", spec={"endpoint": "https://10.9.9.9:6443"})
        for cluster in (prod, dev, team_a, team_b, gke, old):
            ids[cluster.name] = cluster.id
    return ids
