"""Where the demo runs: a testbed (the running one, else one it starts), its files, and how it runs Ansible there.

The testbed is the one ``GPVE_TESTBED_ENV`` names (``source .testbed/env``), else the one
recorded in the state directory (``.testbed/``), else a new one started there the way
``make testbed-up`` starts it (real nodes, VMs that boot, without PostgreSQL: the demo's
registry is SQLite).

The demo's registry is ``<state>/registry.db`` (``inventories/demo/gpve.yml`` reads it
through ``GPVE_REGISTRY``); its other files (settings, the demo cluster's admin kubeconfig)
are in ``<state>/demo/``: ``make testbed-down`` removes both with the testbed. The
playbooks' output goes to ``<state>/logs/demo-*.log``, which stays.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from tests.real_cluster import ssh_env
from tests.testbed import __main__ as testbed_cli
from tests.testbed.layout import DEFAULT_STATE_DIR, REPO_ROOT
from tests.testbed.pki import write_private
from tests.testbed.testbed import STANDIN, Testbed

COLLECTIONS = REPO_ROOT / ".build" / "collections"
BIN = Path(sys.executable).parent


@dataclass
class Demo:
    """What every step shares: the testbed, the demo's files, and what to do at the end.

    ``closing`` always runs at the end (newest first); ``undo`` runs before it when the demo leaves a
    testbed it did not start as it found it (no ``--keep``): each step puts there how to remove what it made.
    """

    testbed: Testbed
    started_testbed: bool
    keep: bool = False
    high_availability: bool = False
    undo: list[Callable[[], None]] = field(default_factory=list)
    closing: list[Callable[[], None]] = field(default_factory=list)

    @property
    def undoing(self) -> bool:
        """True when the demo removes what it made (a testbed it reused, no --keep)."""
        return not self.keep and not self.started_testbed

    @property
    def workdir(self) -> Path:
        path = self.testbed.state_dir / "demo"
        path.mkdir(mode=0o700, exist_ok=True)
        return path

    @property
    def registry(self) -> Path:
        return self.testbed.state_dir / "registry.db"

    def proxmox(self) -> dict:
        """gpve_k8s_vm's connection options for the testbed's fakepve (the password: keep it in 0600 files)."""
        pve = self.testbed.pve
        return {"api_url": pve.url, "api_user": pve.user, "api_password": pve.password, "ca_path": pve.ca_path}

    def private_vars(self, name: str, values: dict) -> Path:
        """An extra-vars file, 0600 (it may hold the Proxmox password)."""
        path = self.workdir / name
        write_private(path, yaml.safe_dump(values, sort_keys=False).encode())
        return path

    def env(self) -> dict[str, str]:
        """The environment for Ansible: this collection, this registry, SSH into the testbed's VMs, and nothing from a
        sourced env file."""
        env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "GPVE_"))}
        env.update(ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
                   ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks",
                   ANSIBLE_HOME=str(self.workdir / "ansible-home"), GPVE_REGISTRY=str(self.registry),
                   **ssh_env(self.testbed))
        return env

    def inventory(self) -> Path:
        """The controller as the only host at the start (create.yml adds the VMs with add_host)."""
        path = self.workdir / "hosts.ini"
        path.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
        return path

    def log(self, name: str) -> Path:
        """<state>/logs/demo-<name>: kept when the testbed stops (make testbed-down keeps its logs)."""
        return self.testbed.state_dir / "logs" / f"demo-{name}"

    def playbook(self, playbook: Path, *extra: str, log_name: str, show: Callable[[str], bool] = lambda line: False) -> None:
        """ansible-playbook, its full output (with task times) in log(log_name); lines for which show() holds are
        printed as they come."""
        log_path = self.log(log_name)
        argv = [str(BIN / "ansible-playbook"), "-i", str(self.inventory()), str(playbook), *extra]
        with open(log_path, "w", encoding="utf-8") as log, subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env(),
                cwd=str(REPO_ROOT)) as process:
            for line in process.stdout:
                log.write(line)
                if show(line):
                    print("  " + line.rstrip(), flush=True)
        if process.returncode != 0:
            tail = "".join(log_path.read_text().splitlines(keepends=True)[-40:])
            raise SystemExit(f"{playbook.name} failed ({process.returncode}); full log: {log_path}\n{tail}")

    def run(self, argv: list[str]) -> str:
        done = subprocess.run(argv, capture_output=True, text=True, env=self.env(), cwd=str(REPO_ROOT), check=False)
        if done.returncode != 0:
            raise SystemExit(f"{shlex.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done.stdout


def state_dir() -> Path:
    return Path(os.environ.get("GPVE_TESTBED_STATE_DIR") or DEFAULT_STATE_DIR)


def open_testbed() -> tuple[Testbed, bool]:
    """(testbed, whether the demo started it).

    The demo's K8s-on-VM cluster is a real one on VMs that boot as machines: the demo needs a
    testbed with real nodes (a stand-in testbed plays Nodes only and boots no VM).
    """
    env_file = os.environ.get("GPVE_TESTBED_ENV")
    if env_file and Path(env_file).is_file():
        return _reused(Testbed.load(Path(env_file).parent)), False
    root = state_dir().resolve()
    if (root / "testbed.json").is_file():
        return _reused(Testbed.load(root)), False
    print(f"Starting a testbed in {root} (as make testbed-up, VMs that boot, without PostgreSQL) ...", flush=True)
    if testbed_cli.main(["--state-dir", str(root), "up", "--no-postgres", "--boot-vms"]) != 0:
        raise SystemExit("the testbed did not start; see the logs above")
    return Testbed.load(root), True


def _reused(testbed: Testbed) -> Testbed:
    if testbed.node_mode == STANDIN:
        raise SystemExit(f"the testbed in {testbed.state_dir} plays its nodes with the stand-in, which boots no VM; the "
                         f"demo's cluster needs a testbed with real nodes (make testbed-up), or none: it then starts one")
    testbed.ensure_running()
    return testbed


def stop_testbed(testbed: Testbed) -> None:
    testbed_cli.main(["--state-dir", str(testbed.state_dir), "down"])
