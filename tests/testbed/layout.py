"""Where a testbed keeps its files, all under one state directory.

    <state>/env            shell exports for humans and other tools (0600: holds passwords)
    <state>/testbed.json   the record: endpoints, credentials, components (0600)
    <state>/pki/           the testbed CA, certificates, service-account keys
    <state>/kube/          kubeconfigs
    <state>/etcd/          etcd's data
    <state>/pve/           fakepve's seed and control token; pve/snippets: cicustom snippets
    <state>/vms/<vmid>/    the machine a started VM boots as (its disk, seed, console log)
    <state>/postgres/      the throwaway PostgreSQL (tests/testbed/postgres.py)
    <state>/logs/<name>.log, <state>/run/<name>.pid
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = REPO_ROOT / ".testbed"


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def env_file(self) -> Path:
        return self.root / "env"

    @property
    def record_file(self) -> Path:
        return self.root / "testbed.json"

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def kube(self) -> Path:
        return self.root / "kube"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def pve(self) -> Path:
        return self.root / "pve"

    @property
    def pve_snippets(self) -> Path:
        return self.root / "pve" / "snippets"

    @property
    def vms(self) -> Path:
        return self.root / "vms"

    @property
    def postgres(self) -> Path:
        return self.root / "postgres"

    @property
    def volumes(self) -> Path:
        return self.root / "volumes"

    def log(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def pidfile(self, name: str) -> Path:
        return self.root / "run" / f"{name}.pid"

    def ready_file(self, name: str) -> Path:
        return self.root / "run" / f"{name}.ready"

    def create(self) -> None:
        for directory in (self.root, self.pki, self.kube, self.pve, self.root / "logs", self.root / "run"):
            directory.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
