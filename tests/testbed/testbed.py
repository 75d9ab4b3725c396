"""A whole testbed: creates, records, starts and stops its components.

``Testbed.create(state_dir)`` generates the CA and credentials, starts every component
detached, waits for each to be ready, fills the volume pool, and writes the record
(``testbed.json``) and the shell ``env`` file. ``Testbed.load(state_dir)`` gives any later
process (``make testbed-down``, a pytest session, a health test) the same object back.
"""

from __future__ import annotations

import json
import shlex
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import kube, node_standin, storage_pool
from .components import Component
from .layout import Layout
from .pki import CertificateAuthority, write_private
from .processes import free_port
from .pve import DEFAULT_TIME_SCALE, PveEndpoint, prepare as prepare_pve
from .pve_control import PveControl

# Start order; stop runs it backwards.
ORDER = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "node-standin", "fakepve")
ALIASES = {"apiserver": "kube-apiserver", "controller-manager": "kube-controller-manager",
           "scheduler": "kube-scheduler", "standin": "node-standin", "pve": "fakepve"}


class Testbed:
    def __init__(self, layout: Layout, record: dict):
        self.layout = layout
        self.record = record
        self.components = {name: Component.from_dict(data) for name, data in record["components"].items()}

    # ------------------------------------------------------------ what clients use

    @property
    def state_dir(self) -> Path:
        return self.layout.root

    @property
    def kubeconfig(self) -> str:
        return self.record["kube"]["kubeconfig"]

    @property
    def api_url(self) -> str:
        return self.record["kube"]["api_url"]

    @property
    def ca_path(self) -> str:
        return self.record["ca_path"]

    @property
    def node_names(self) -> list[str]:
        return list(self.record["kube"]["nodes"])

    @property
    def storage_class(self) -> str:
        return self.record["kube"]["storage_class"]

    @property
    def pve(self) -> PveEndpoint:
        return PveEndpoint(**self.record["pve"])

    @property
    def pve_control(self) -> PveControl:
        return PveControl(self.record["pve"]["control_url"], self.record["pve"]["control_token"])

    @property
    def pg_dsn(self) -> str | None:
        return (self.record.get("postgres") or {}).get("dsn")

    def env(self) -> dict[str, str]:
        """The variables the env file exports."""
        endpoint = self.pve
        values = {
            "GPVE_TESTBED_ENV": str(self.layout.env_file),
            "GPVE_TESTBED_STATE_DIR": str(self.state_dir),
            "GPVE_TESTBED_KUBECONFIG": self.kubeconfig,
            "GPVE_TESTBED_API_URL": self.api_url,
            "GPVE_TESTBED_CA_PATH": self.ca_path,
            "GPVE_TESTBED_STORAGE_CLASS": self.storage_class,
            "GPVE_PROXMOX_API_URL": endpoint.url,
            "GPVE_PROXMOX_API_USER": endpoint.user,
            "GPVE_PROXMOX_API_PASSWORD": endpoint.password,
            "GPVE_PROXMOX_API_TOKEN_ID": endpoint.token_id,
            "GPVE_PROXMOX_API_TOKEN_SECRET": endpoint.token_secret,
            "GPVE_PROXMOX_CA_PATH": endpoint.ca_path,
            "GPVE_PROXMOX_NODE": "pve1",
            "GPVE_TESTBED_PVE_TIME_SCALE": str(endpoint.time_scale),
            "GPVE_TESTBED_PVE_CONTROL_URL": endpoint.control_url,
            "GPVE_TESTBED_PVE_CONTROL_TOKEN": endpoint.control_token,
        }
        if self.pg_dsn:
            values["GPVE_TESTBED_PG_DSN"] = self.pg_dsn
        return values

    # ------------------------------------------------------------ components

    def component(self, name: str) -> Component:
        name = ALIASES.get(name, name)
        if name not in self.components:
            raise ValueError(f"no testbed component {name!r}; known: {', '.join(self.components)}")
        return self.components[name]

    def stop_component(self, name: str) -> None:
        """Stop one component by its pid (SIGTERM, then SIGKILL); the others keep running."""
        self.component(name).stop()

    def start_component(self, name: str) -> None:
        """Start a stopped component again with the same arguments and wait until it is ready."""
        component = self.component(name)
        component.start()
        component.wait_ready()

    def component_running(self, name: str) -> bool:
        return self.component(name).running()

    def ensure_running(self) -> None:
        """Start whatever component is not running, in dependency order."""
        for name in ORDER:
            if name in self.components and not self.components[name].running():
                self.start_component(name)

    def status(self) -> dict[str, dict]:
        return {name: {"pid": c.pid(), "ready": c.ready()} for name, c in self.components.items()}

    def stop(self) -> None:
        """Stop every component, and the PostgreSQL instance if this testbed started one."""
        for name in reversed(ORDER):
            if name in self.components:
                self.components[name].stop()
        if self.record.get("postgres"):
            from .postgres import PostgresInstance  # another engineer's module; imported when needed
            instance = PostgresInstance.load(self.layout.postgres)
            if instance is not None:
                instance.stop()

    # ------------------------------------------------------------ persistence

    def save(self) -> None:
        write_private(self.layout.record_file, json.dumps(self.record, indent=2).encode())
        lines = ["# gpve testbed: source me (make testbed-up wrote this; make testbed-down stops it)"]
        lines += [f"export {key}={shlex.quote(value)}" for key, value in self.env().items()]
        write_private(self.layout.env_file, ("\n".join(lines) + "\n").encode())

    @classmethod
    def load(cls, state_dir: Path) -> "Testbed":
        layout = Layout(Path(state_dir))
        return cls(layout, json.loads(layout.record_file.read_text()))

    # ------------------------------------------------------------ creation

    @classmethod
    def create(cls, state_dir: Path, with_postgres: bool = False, nodes: int = 3,
               pve_time_scale: float = DEFAULT_TIME_SCALE) -> "Testbed":
        """Build and start a new testbed in state_dir; on any failure, stop what was started."""
        layout = Layout(Path(state_dir).resolve())
        layout.create()
        timings: dict[str, float] = {}
        started = time.monotonic()
        testbed = cls(layout, _plan(layout, nodes, pve_time_scale))
        timings["pki"] = time.monotonic() - started
        side = ThreadPoolExecutor(max_workers=1)
        postgres = side.submit(_start_postgres, layout) if with_postgres else None
        try:
            try:
                testbed.components["fakepve"].start()
                _start_kubernetes(testbed, timings, started)
                testbed.components["fakepve"].wait_ready()
                timings["fakepve"] = time.monotonic() - started
            finally:
                if postgres is not None:
                    # Recorded even when something else failed, so stop() below finds it.
                    testbed.record["postgres"] = postgres.result()
                    timings["postgres"] = time.monotonic() - started
                side.shutdown()
        except BaseException:
            testbed.stop()
            raise
        testbed.record["timings"] = {key: round(value, 2) for key, value in timings.items()}
        testbed.save()
        return testbed


def _plan(layout: Layout, nodes: int, pve_time_scale: float) -> dict:
    """Credentials, ports and component definitions of a new testbed: its record, before anything runs."""
    ca = CertificateAuthority.create(layout.pki)
    ports = kube.KubePorts(*(free_port() for _port in range(5)))
    api_url = f"https://127.0.0.1:{ports.apiserver}"
    creds = kube.issue_credentials(layout, ca, api_url)
    bin_dir = kube.kube_bin_dir()
    endpoint, fakepve = prepare_pve(layout, ca, pve_time_scale)
    components = [kube.etcd(layout, ports), kube.apiserver(layout, ports, creds, bin_dir),
                  kube.controller_manager(layout, ports, creds, bin_dir), kube.scheduler(layout, ports, creds, bin_dir),
                  node_standin.component(layout, creds.node_standin_kubeconfig, nodes), fakepve]
    return {
        "ca_path": str(ca.cert_path),
        "kube": {"api_url": api_url, "kubeconfig": str(creds.admin_kubeconfig), "bin_dir": str(bin_dir),
                 "nodes": node_standin.node_names(nodes), "storage_class": storage_pool.STORAGE_CLASS},
        "pve": endpoint.to_dict(),
        "postgres": None,
        "components": {c.name: c.to_dict() for c in components},
    }


def _start_kubernetes(testbed: Testbed, timings: dict[str, float], started: float) -> None:
    """etcd, then the API server, then the rest side by side while the volume pool is created."""
    parts = testbed.components
    for name in ("etcd", "kube-apiserver"):
        parts[name].start()
        parts[name].wait_ready()
        timings[name] = time.monotonic() - started
    for name in ("kube-controller-manager", "kube-scheduler", "node-standin"):
        parts[name].start()
    pool = threading.Thread(target=_fill_pool, args=(testbed, timings, started), name="volume-pool")
    pool.start()
    for name in ("kube-controller-manager", "kube-scheduler", "node-standin"):
        parts[name].wait_ready()
        timings[name] = time.monotonic() - started
    pool.join()
    if "volume-pool" not in timings:
        raise RuntimeError("creating the PersistentVolume pool failed; see the traceback above")


def _fill_pool(testbed: Testbed, timings: dict[str, float], started: float) -> None:
    from kubernetes import config
    api = config.new_client_from_config(testbed.kubeconfig)
    try:
        testbed.record["kube"]["volumes"] = storage_pool.create_pool(api, testbed.layout.volumes)
    finally:
        api.close()
    timings["volume-pool"] = time.monotonic() - started


def _start_postgres(layout: Layout) -> dict:
    from .postgres import start_postgres  # owned by tests/testbed/postgres.py
    instance = start_postgres(layout.postgres)
    return {"dsn": instance.dsn, "pid": instance.pid}
