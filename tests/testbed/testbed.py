"""A whole testbed: creates, records, starts and stops its components.

``Testbed.create(state_dir)`` generates the CA and credentials, starts every component
detached, waits for each to be ready, boots the nodes, fills the volume pool, and writes
the record (``testbed.json``) and the shell ``env`` file. ``Testbed.load(state_dir)`` gives
any later process (``make testbed-down``, a pytest session, a health test) the same object back.

Two kinds of node: ``real`` (the default) boots machines that run containerd, the kubelet
and kube-proxy on the testbed network (``nodes.py``); only one such testbed runs on a host
at a time (the network is the host's). ``standin`` keeps everything on loopback and plays
the kubelets with the node stand-in, for tests that need hundreds of Nodes (the vCluster
scale bench) and those whose workloads have no image here yet.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
import shlex
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import binaries, images, kube, network, node_standin, nodes, storage_pool
from .components import Component
from .layout import Layout
from .machine import Machine, remove_testbed_cgroups
from .pki import CertificateAuthority, write_private
from . import processes
from .processes import free_ports, read_pid
from .pve import DEFAULT_HOST as PVE_HOST, DEFAULT_TIME_SCALE, PveEndpoint, prepare as prepare_pve
from .pve_control import PveControl
from .qemu_server import QemuServer, QemuServerConfig

# Start order; stop runs it backwards.
ORDER = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "node-standin", "fakepve")
ALIASES = {"apiserver": "kube-apiserver", "controller-manager": "kube-controller-manager",
           "scheduler": "kube-scheduler", "standin": "node-standin", "pve": "fakepve"}
REAL, STANDIN = "real", "standin"
NODE_READY_TIMEOUT = 300.0


class Testbed:
    def __init__(self, layout: Layout, record: dict):
        self.layout = layout
        self.record = record
        self.components = {name: Component.from_dict(data) for name, data in record["components"].items()}
        self.machines = {name: Machine.from_dict(data) for name, data in record.get("machines", {}).items()}

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
    def node_mode(self) -> str:
        return self.record["kube"].get("node_mode", STANDIN)

    @property
    def storage_class(self) -> str:
        return self.record["kube"]["storage_class"]

    @property
    def k8s_version(self) -> str:
        return self.record["kube"]["version"]

    @property
    def airgap_dir(self) -> str:
        return self.record["kube"]["airgap_dir"]

    @property
    def ssh_key(self) -> str:
        return self.record["ssh_key"]

    def ssh(self, user: str, address: str, *command: str, timeout: float = 120,
            check: bool = True) -> subprocess.CompletedProcess:
        """command on a testbed VM (only an address on the VM bridge) as user, with the testbed's key."""
        # A stdin of its own: ssh sets O_NONBLOCK on the stdin it is given and, killed by the timeout, never clears
        # it; on pytest's shared stdin that would make every later ansible run refuse to start.
        return subprocess.run(self.ssh_argv(user, address, *command), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout, check=check)

    def ssh_argv(self, user: str, address: str, *command: str) -> list[str]:
        """The ssh command line for command on a testbed VM (only an address on the VM bridge)."""
        network.require_testbed_address(address)
        return ["ssh", "-i", self.ssh_key, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
                f"{user}@{address}", *command]

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
        """The variables the env file exports (the Proxmox token only: a password beside it is ambiguous)."""
        endpoint = self.pve
        values = {
            "GPVE_TESTBED_ENV": str(self.layout.env_file),
            "GPVE_TESTBED_STATE_DIR": str(self.state_dir),
            "GPVE_TESTBED_KUBECONFIG": self.kubeconfig,
            "GPVE_TESTBED_API_URL": self.api_url,
            "GPVE_TESTBED_CA_PATH": self.ca_path,
            "GPVE_TESTBED_STORAGE_CLASS": self.storage_class,
            "GPVE_TESTBED_K8S_VERSION": self.k8s_version.lstrip("v"),
            "GPVE_TESTBED_K8S_VERSIONS": " ".join(v.lstrip("v") for v in binaries.built_kubernetes_versions()),
            "GPVE_TESTBED_AIRGAP_DIR": self.airgap_dir,
            "GPVE_TESTBED_TEST_IMAGE": images.TEST_IMAGE,
            "GPVE_TESTBED_IMAGE_REGISTRY": images.REGISTRY,
            "GPVE_TESTBED_SSH_KEY": self.ssh_key,
            "GPVE_TESTBED_VM_NETWORK": network.VmNetwork().to_json(),
            "GPVE_PROXMOX_API_URL": endpoint.url,
            "GPVE_PROXMOX_API_USER": endpoint.user,
            "GPVE_PROXMOX_API_TOKEN_ID": endpoint.token_id,
            "GPVE_PROXMOX_API_TOKEN_SECRET": endpoint.token_secret,
            "GPVE_PROXMOX_CA_PATH": endpoint.ca_path,
            "GPVE_PROXMOX_NODE": "pve1",
            "GPVE_TESTBED_PVE_TIME_SCALE": str(endpoint.time_scale),
            "GPVE_TESTBED_PVE_CONTROL_URL": endpoint.control_url,
            "GPVE_TESTBED_PVE_CONTROL_TOKEN": endpoint.control_token,
        }
        if self.record.get("qemu_server"):
            values["GPVE_TESTBED_PVE_SNIPPETS"] = self.record["qemu_server"]["snippets"]
        if self.pg_dsn:
            values["GPVE_TESTBED_PG_DSN"] = self.pg_dsn
        return values

    # ------------------------------------------------------------ components and machines

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
        """Start whatever component or node machine is not running, in dependency order."""
        for name in ORDER:
            if name in self.components and not self.components[name].running():
                self.start_component(name)
        stopped = [m for m in self.machines.values() if not m.running()]
        if stopped:
            network.up()
            for machine in stopped:
                machine.boot()

    def orphaned(self) -> bool:
        """True when no one can use this testbed any more: the session that started it for itself
        (a pytest run) has ended without stopping it, or none of its parts runs."""
        session = self.record.get("session")
        if session and not processes.is_alive(session):
            return True
        return not any(c.running() for c in self.components.values()) and \
            not any(m.running() for m in self.machines.values())

    def status(self) -> dict[str, dict]:
        parts = {name: {"pid": c.pid(), "ready": c.ready()} for name, c in self.components.items()}
        for name, machine in self.machines.items():
            parts[name] = {"pid": read_pid(machine.pidfile), "ready": machine.running()}
        return parts

    def stop(self) -> None:
        """Stop every machine and component, the PostgreSQL instance if this testbed started one,
        and remove the testbed network and cgroups."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda machine: machine.remove(), self.machines.values()))
        for name in reversed(ORDER):
            if name in self.components:
                self.components[name].stop()
        if self.record.get("qemu_server"):
            # fakepve powered its VMs off when it stopped; their machines and disks go with the testbed.
            QemuServer(QemuServerConfig.from_dict(self.record["qemu_server"])).remove_all()
        if self.record.get("postgres"):
            from .postgres import PostgresInstance  # another engineer's module; imported when needed
            instance = PostgresInstance.load(self.layout.postgres)
            if instance is not None:
                instance.stop()
        if self.node_mode == REAL:
            network.down()
            remove_testbed_cgroups()
            network.release(self.layout.root)

    # ------------------------------------------------------------ persistence

    def save(self) -> None:
        self.record["machines"] = {name: machine.to_dict() for name, machine in self.machines.items()}
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
    def create(cls, state_dir: Path, with_postgres: bool = False, nodes: int = 1,
               pve_time_scale: float = DEFAULT_TIME_SCALE, node_mode: str = REAL,
               for_this_process: bool = False, boot_vms: bool = False) -> "Testbed":
        """Build and start a new testbed in state_dir; on any failure, stop and remove what was started.
        for_this_process: the testbed lives only as long as the calling process (a pytest session): once
        that process is gone, the next testbed takes the network over from it. boot_vms: VMs that fakepve
        starts boot as machines from the start (real nodes only; the control channel's ``boot_vms`` turns it
        on and off later)."""
        layout = Layout(Path(state_dir).resolve())
        layout.create()
        timings: dict[str, float] = {}
        started = time.monotonic()
        if node_mode == REAL:
            _stop_orphan_holding_network()
            network.claim(layout.root)
        testbed = cls(layout, {"kube": {"node_mode": node_mode}, "components": {}})
        side = ThreadPoolExecutor(max_workers=2)
        postgres = side.submit(_start_postgres, layout) if with_postgres else None
        bundle = side.submit(images.bundle_dir, binaries.DEFAULT_KUBERNETES_VERSION)
        try:
            try:
                testbed = cls(layout, _plan(layout, nodes, pve_time_scale, node_mode, boot_vms))
                timings["pki"] = time.monotonic() - started
                testbed.components["fakepve"].start()
                _start_kubernetes(testbed, timings, started, bundle)
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
        if for_this_process:
            testbed.record["session"] = processes.identity(os.getpid())
        testbed.save()
        return testbed


def _stop_orphan_holding_network() -> None:
    """A testbed whose pytest session was killed still holds the host's testbed network (and may
    still run machines): stop it, so the network is free again. A live one is left alone (claim refuses)."""
    holder = network.owner()
    if holder is None or not (holder / "testbed.json").exists():
        return
    orphan = Testbed.load(holder)
    if orphan.orphaned():
        orphan.stop()
        (holder / "testbed.json").unlink()


def _plan(layout: Layout, node_count: int, pve_time_scale: float, node_mode: str, boot_vms: bool) -> dict:
    """Credentials, ports and component definitions of a new testbed: its record, before anything runs."""
    if node_mode == REAL:
        network.up()  # the guard routes exist before any machine starts; the API server listens on the bridge
    address = kube.API_ADDRESS if node_mode == REAL else "127.0.0.1"
    ca = CertificateAuthority.create(layout.pki)
    # One draw for every port the control plane and fakepve listen on, so none is given twice.
    *kube_ports, pve_port, pve_control_port = free_ports(["127.0.0.1", "127.0.0.1", address, "127.0.0.1", "127.0.0.1",
                                                          PVE_HOST, "127.0.0.1"])
    ports = kube.KubePorts(*kube_ports)
    api_url = f"https://{address}:{ports.apiserver}"
    creds = kube.issue_credentials(layout, ca, api_url)
    bin_dir = kube.kube_bin_dir()
    qemu = _qemu_server_config(layout) if node_mode == REAL else None
    endpoint, fakepve = prepare_pve(layout, ca, pve_time_scale, qemu=qemu, boot_vms=boot_vms,
                                    ports=(pve_port, pve_control_port))
    components = [kube.etcd(layout, ports), kube.apiserver(layout, ports, creds, bin_dir, address),
                  kube.controller_manager(layout, ports, creds, bin_dir), kube.scheduler(layout, ports, creds, bin_dir),
                  fakepve]
    if node_mode == STANDIN:
        components.append(node_standin.component(layout, creds.node_standin_kubeconfig, node_count))
        node_names = node_standin.node_names(node_count)
    else:
        node_names = [node.name for node in nodes.plan(node_count)]
    return {
        "ca_path": str(ca.cert_path),
        "ssh_key": str(_ssh_key(layout)),
        "kube": {"api_url": api_url, "kubeconfig": str(creds.admin_kubeconfig), "bin_dir": str(bin_dir),
                 "version": binaries.DEFAULT_KUBERNETES_VERSION, "node_mode": node_mode, "node_count": node_count,
                 "nodes": node_names, "storage_class": storage_pool.STORAGE_CLASS, "airgap_dir": ""},
        "pve": endpoint.to_dict(),
        "qemu_server": asdict(qemu) if qemu else None,
        "postgres": None,
        "components": {c.name: c.to_dict() for c in components},
    }


def _qemu_server_config(layout: Layout) -> QemuServerConfig:
    """Started VMs boot from the machine image; cicustom snippets come from <state>/pve/snippets."""
    layout.pve_snippets.mkdir(parents=True, exist_ok=True)
    return QemuServerConfig(state_dir=str(layout.vms), image=str(binaries.machine_image()),
                            snippets=str(layout.pve_snippets))


def _ssh_key(layout: Layout) -> Path:
    """The key every testbed machine accepts for its cloud-init user (private 0600, public beside it)."""
    key = layout.root / "ssh" / "id_ed25519"
    if not key.exists():
        key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gpve-testbed", "-f", str(key)],
                       check=True)
    key.chmod(0o600)
    return key


def _start_kubernetes(testbed: Testbed, timings: dict[str, float], started: float, bundle) -> None:
    """etcd, then the API server, then the rest side by side with the nodes and the volume pool."""
    parts = testbed.components
    for name in ("etcd", "kube-apiserver"):
        parts[name].start()
        parts[name].wait_ready()
        timings[name] = time.monotonic() - started
    followers = [name for name in ("kube-controller-manager", "kube-scheduler", "node-standin") if name in parts]
    for name in followers:
        parts[name].start()
    testbed.record["kube"]["airgap_dir"] = str(bundle.result())
    timings["images"] = time.monotonic() - started
    if testbed.node_mode == REAL:
        _boot_nodes(testbed)
    pool = threading.Thread(target=_fill_pool, args=(testbed, timings, started), name="volume-pool")
    pool.start()
    for name in followers:
        parts[name].wait_ready()
        timings[name] = time.monotonic() - started
    if testbed.node_mode == REAL:
        _wait_nodes_ready(testbed)
        timings["nodes-ready"] = time.monotonic() - started
        from . import cluster_dns
        cluster_dns.deploy(testbed.kubeconfig)
        timings["coredns"] = time.monotonic() - started
    pool.join()
    if "volume-pool" not in timings:
        raise RuntimeError("creating the PersistentVolume pool failed; see the traceback above")


def _boot_nodes(testbed: Testbed) -> None:
    """Prepare and boot every node machine, side by side; records them before the first boot."""
    ca = CertificateAuthority.load(testbed.layout.pki)
    public_key = Path(testbed.ssh_key + ".pub").read_text().strip()
    bundle = Path(testbed.airgap_dir)
    kube_bin = Path(testbed.record["kube"]["bin_dir"])
    planned = nodes.plan(testbed.record["kube"]["node_count"])
    for node in planned:
        testbed.machines[node.name] = nodes.machine_for(node, testbed.layout.root / "machines", kube_bin, bundle)
    testbed.save()

    def boot(node: nodes.NodePlan) -> None:
        machine = testbed.machines[node.name]
        nodes.prepare(machine, node, ca, testbed.api_url, public_key)
        machine.boot()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(boot, planned))


def _wait_nodes_ready(testbed: Testbed) -> None:
    from kubernetes import client, config
    from .processes import wait_until
    api = config.new_client_from_config(testbed.kubeconfig)
    core = client.CoreV1Api(api)

    def all_ready() -> bool:
        ready = {node.metadata.name for node in core.list_node().items
                 if any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])}
        return set(testbed.node_names) <= ready
    try:
        first = next(iter(testbed.machines.values()))
        wait_until(all_ready, NODE_READY_TIMEOUT, f"nodes {', '.join(testbed.node_names)} Ready",
                   first.log, first.pidfile, interval=1.0)
    finally:
        api.close()


def _fill_pool(testbed: Testbed, timings: dict[str, float], started: float) -> None:
    from kubernetes import config
    api = config.new_client_from_config(testbed.kubeconfig)
    node_names = testbed.node_names if testbed.node_mode == REAL else []
    try:
        testbed.record["kube"]["volumes"] = storage_pool.create_pool(api, testbed.layout.volumes, node_names)
    finally:
        api.close()
    timings["volume-pool"] = time.monotonic() - started


def _start_postgres(layout: Layout) -> dict:
    from .postgres import start_postgres  # owned by tests/testbed/postgres.py
    instance = start_postgres(layout.postgres)
    return {"dsn": instance.dsn, "pid": instance.pid}
