"""What the demo prints at the end: the registry's view (gpve_cluster_info) as tables, and the dynamic inventory.

Both read the registry only through the collection's own interfaces: the module
``gpve.cluster.gpve_cluster_info`` (run by registry_view.yml) and the inventory plugin
``gpve.cluster.gpve`` (``ansible-inventory -i inventories/demo/gpve.yml --graph``). Every
cluster in the registry is shown, whatever step put it there.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.testbed.layout import REPO_ROOT

from .environment import BIN

VIEW = Path(__file__).with_name("registry_view.yml")
INVENTORY = REPO_ROOT / "inventories" / "demo" / "gpve.yml"


def table(headers: list[str], rows: list[list], indent: str = "  ") -> str:
    """Plain text columns, as kubectl prints them."""
    cells = [[str(value) if value not in (None, "") else "-" for value in row] for row in [headers] + rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    return "\n".join(indent + "  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip()
                     for row in cells)


def _summary(clusters: list[dict]) -> str:
    return table(["NAME", "TYPE", "PHASE", "VERSION (SPEC/SEEN)", "VMS", "NODES READY", "ENDPOINT", "LABELS"], [
        [c["name"], c["type"], c["phase"], f"{(c.get('spec') or {}).get('kubernetes_version') or '-'}/{c.get('version') or '-'}",
         c.get("registered_nodes"), f"{c.get('ready_nodes') or 0}/{c.get('node_count') or 0}", c.get("endpoint"),
         ",".join(f"{k}={v}" for k, v in sorted((c.get("labels") or {}).items()))] for c in clusters])


def _nodes(cluster: dict) -> str:
    return table(["NODE", "ROLE", "POOL", "VMID", "PROXMOX NODE", "ADDRESS", "CPU", "MEMORY", "STATUS"], [
        [n["name"], n["role"], n.get("pool_name"), n.get("vmid"), (n.get("resources") or {}).get("proxmox_node"),
         n.get("ip_address"), (n.get("resources") or {}).get("cores"), f"{(n.get('resources') or {}).get('memory')} MB",
         n["status"]] for n in cluster.get("nodes") or []], indent="    ")


def _health(cluster: dict) -> str:
    health = cluster.get("health") or {}
    checks = "; ".join(f"{check['name']} {check['status']} ({check['message']})" for check in health.get("checks") or [])
    return f"  health: {health.get('status', 'not checked')} - {checks}"


def _drift(cluster: dict) -> str:
    drift = cluster.get("drift")
    if not drift:
        return ""
    if drift.get("in_sync"):
        return f"  drift against Proxmox: in sync ({len(cluster.get('nodes') or [])} VMs as recorded)"
    found = {kind: drift[kind] for kind in ("missing", "extra", "stopped", "resized", "moved") if drift.get(kind)}
    return f"  drift against Proxmox: {json.dumps(found)}"


def _transitions(cluster: dict) -> str:
    """The phase changes, oldest first, from the cluster's events."""
    events = [e for e in reversed(cluster.get("events") or []) if e.get("type") == "Transition"]
    return table(["TIME", "FROM", "TO", "REASON", "MESSAGE"], [
        [e["timestamp"][11:19], (e.get("metadata") or {}).get("from"), (e.get("metadata") or {}).get("to"), e.get("reason"),
         e.get("message")] for e in events], indent="    ")


def print_registry(demo) -> None:
    """gpve_cluster_info over the demo registry, printed as tables."""
    answer = demo.workdir / "registry-view.json"
    settings = demo.private_vars("view-vars.yml", {
        "gpve_registry": str(demo.registry), "gpve_proxmox": demo.proxmox(), "demo_view_file": str(answer)})
    demo.playbook(VIEW, "-e", f"@{settings}", log_name="registry-view.log")
    clusters = json.loads(answer.read_text())["clusters"]
    print(f"\n== The registry's view (gpve.cluster.gpve_cluster_info; registry {demo.registry})")
    print(_summary(clusters))
    for cluster in clusters:
        print(f"\n{cluster['name']} ({cluster['type']}, {cluster['phase']}: {cluster.get('message') or ''})")
        if cluster.get("nodes"):
            print(_nodes(cluster))
        print(_health(cluster))
        drift = _drift(cluster)
        if drift:
            print(drift)
        credentials = ", ".join(f"{c['type']} (key {c['key_id']})" for c in cluster.get("credentials") or [])
        print(f"  credentials (encrypted): {credentials or 'none'}")
        print(f"  phases ({len(cluster.get('events') or [])} events recorded):\n{_transitions(cluster)}")


def print_inventory(demo) -> None:
    """The dynamic inventory over the same registry."""
    argv = [str(BIN / "ansible-inventory"), "-i", str(INVENTORY), "--graph"]
    print(f"\n== The dynamic inventory (GPVE_REGISTRY={demo.registry} "
          f"ansible-inventory -i {INVENTORY.relative_to(REPO_ROOT)} --graph)")
    print(demo.run(argv).rstrip())
