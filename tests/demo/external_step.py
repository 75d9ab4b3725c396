"""The testbed's own Kubernetes cluster imported as an external cluster, and every cluster as a table.

``playbooks/external/import.yml`` (the same playbook a user runs) imports the testbed's API
server by its admin kubeconfig with ``gpve.cluster.gpve_external_cluster`` (connectivity
first, then discovery: version, nodes, ready nodes, pods, namespaces; the kubeconfig stored
encrypted), then reads every cluster with ``gpve.cluster.gpve_cluster_info`` (live health,
written back to the registry) and prints them as a table. The demo prints that table.

When the demo gives a reused testbed back, ``playbooks/external/disconnect.yml`` forgets the
credentials again (the registry keeps the row as Deleted, with its events).
"""

from __future__ import annotations

import json

from tests.testbed.layout import REPO_ROOT

CLUSTER = "testbed"
IMPORT = REPO_ROOT / "playbooks" / "external" / "import.yml"
DISCONNECT = REPO_ROOT / "playbooks" / "external" / "disconnect.yml"
TABLE_TASK = "TASK [Show the registry as a table]"


class TableLines:
    """Collects the table import.yml prints (the lines of its debug task's ``msg`` list)."""

    def __init__(self):
        self.in_task = False
        self.in_msg = False
        self.lines: list[str] = []

    def __call__(self, line: str) -> bool:
        text = line.strip()
        if line.startswith("TASK ["):
            self.in_task = line.startswith(TABLE_TASK)
        elif self.in_task and text == '"msg": [':
            self.in_msg = True
        elif self.in_msg and text.startswith("]"):
            self.in_msg = self.in_task = False
        elif self.in_msg:
            self.lines.append(json.loads(text.rstrip(",")))
        return line.startswith(("fatal:", "failed:"))


def import_testbed(demo) -> None:
    """Import the testbed's API server as external cluster 'testbed'; print gpve_cluster_info's clusters as a table."""
    print(f"\n== External cluster: {IMPORT.relative_to(REPO_ROOT)} imports the testbed's own API server "
          f"({demo.testbed.api_url}) as '{CLUSTER}' by kubeconfig, then gpve_cluster_info (health: true) over every cluster")
    demo.undo.append(lambda: _disconnect(demo))
    table = TableLines()
    demo.playbook(IMPORT, "-e", f"cluster_name={CLUSTER}", "-e", f"kubeconfig={demo.testbed.kubeconfig}",
                  log_name="import.log", show=table)
    if not table.lines:
        raise SystemExit(f"{IMPORT.name} printed no table; full log: {demo.log('import.log')}")
    print("\n".join("  " + line.rstrip() for line in table.lines))


def _disconnect(demo) -> None:
    demo.playbook(DISCONNECT, "-e", f"cluster_name={CLUSTER}", log_name="disconnect.log")
    print(f"Disconnected the external cluster '{CLUSTER}' (credentials forgotten, registry row kept as Deleted)")
