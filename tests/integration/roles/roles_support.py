"""Helpers of the roles and playbooks tests: run ansible-playbook, read what a run left behind."""

from __future__ import annotations

from pathlib import Path

import yaml

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry

REPO = Path(__file__).resolve().parents[3]
PLAYBOOKS = REPO / "playbooks" / "k8s_vm"
TEST_PLAYBOOKS = Path(__file__).parent / "playbooks"
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3RiZWQta2V5LWZvci1ncHZlLWs4cy12bQ roles@testbed"


def yaml_docs(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


class Registry:
    """Reads of the registry a run wrote (a SQLite file)."""

    def __init__(self, path: Path):
        self.path = str(path)

    def open(self):
        return open_registry(self.path, actor="roles-tests")

    def cluster(self, name: str, include_deleted: bool = False):
        with self.open() as store:
            if include_deleted:
                found = [c for c in store.bulk_snapshot(include_deleted=True).clusters if c.name == name]
                return found[-1] if found else None
            return store.find_cluster(name)

    def events(self, cluster_id: str) -> list:
        """Oldest first."""
        with self.open() as store:
            return list(reversed(store.list_events(cluster_id=cluster_id, limit=2000)))

    def nodes(self, cluster_id: str) -> list:
        with self.open() as store:
            return store.list_nodes(cluster_id)

    def credential(self, cluster_id: str, kind: str):
        with self.open() as store:
            return store.get_credential(cluster_id, kind)

    def credential_types(self, cluster_id: str) -> list[str]:
        with self.open() as store:
            return sorted(info.type for info in store.list_credentials(cluster_id=cluster_id))


def stage_events(events: list) -> list[tuple[str, str]]:
    """(stage, reason) of the StageStarted/StageDone/StageFailed events, in order."""
    return [(e.metadata.get("stage"), e.reason) for e in events
            if e.type in ("Normal", "Warning") and e.reason in ("StageStarted", "StageDone", "StageFailed")]


def transitions(events: list) -> list[tuple[str, str]]:
    return [(e.metadata.get("from"), e.metadata.get("to")) for e in events if e.type == "Transition"]
