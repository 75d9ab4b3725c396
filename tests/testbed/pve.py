"""Proxmox VE for the testbed: fakepve in its own process, seeded, with a control channel.

The process serves fakepve's PVE 9 API over HTTPS on a loopback address (127.0.0.2 by
default) with a certificate from the testbed CA, seeded by ``pve_seed``; guest agents
report the address cloud-init gave each VM (``pve_agent``); ``pve_control`` serves fault
injection on 127.0.0.1. Its settings, secrets included, come from a 0600 JSON file, never
from the command line:

    python -m tests.testbed.pve --config <state>/pve/config.json

Additions to fakepve, all test infrastructure: ``fail_task`` (a request answers a UPID
whose task ends in ``TASK ERROR``, optionally only for given body parameters),
``expire_tickets``, ``boot_vms`` (with real nodes: VMs started while it is on boot as testbed
machines, ``qemu_server.py``), and ``PUT /nodes/{node}/qemu/{vmid}/resize`` (fakepve 0.5.0 answers it
from the schema without changing the VM; here it grows the drive's ``size=`` as qemu-server's
resize does, so gpve_k8s_vm's resize and gpve_cluster_info's drift see real sizes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .components import Component, Probe
from .layout import REPO_ROOT, Layout
from .pki import CertificateAuthority, write_private
from .processes import free_ports
from .qemu_server import QemuServer, QemuServerConfig

DEFAULT_HOST = "127.0.0.2"
DEFAULT_TIME_SCALE = 0.01
USER = "root@pam"
TOKEN_ID = "root@pam!gpve-testbed"


@dataclass(frozen=True)
class PveEndpoint:
    """How clients reach the testbed's Proxmox: API, credentials, CA, and the control channel."""

    url: str
    host: str
    port: int
    user: str
    password: str
    token_id: str
    token_secret: str
    ca_path: str
    control_url: str
    control_token: str
    time_scale: float

    def to_dict(self) -> dict:
        return asdict(self)

    def api(self):
        """A proxmoxer client logged in as the testbed's user (its CA verified)."""
        # Imported here: only the tests that talk to Proxmox need proxmoxer.
        from proxmoxer import ProxmoxAPI  # pylint: disable=import-outside-toplevel
        return ProxmoxAPI(self.host, port=self.port, user=self.user, password=self.password, verify_ssl=self.ca_path)


def prepare(layout: Layout, ca: CertificateAuthority, time_scale: float = DEFAULT_TIME_SCALE,
            host: str = DEFAULT_HOST, qemu: QemuServerConfig | None = None,
            boot_vms: bool = False, ports: tuple[int, int] | None = None) -> tuple[PveEndpoint, Component]:
    """Certificate, credentials and the 0600 config file for a new fake; returns its endpoint and component.
    qemu: where started VMs boot as machines (real nodes only); boot_vms: whether they do from the start;
    ports: (API on host, control channel on 127.0.0.1), drawn with the caller's other ports (else drawn here)."""
    pair = ca.issue("fakepve", "fakepve", hosts=(host, "localhost", "127.0.0.1"), server=True)
    port, control_port = ports or free_ports([host, "127.0.0.1"])
    endpoint = PveEndpoint(
        url=f"https://{host}:{port}", host=host, port=port, user=USER, password=secrets.token_urlsafe(18),
        token_id=TOKEN_ID, token_secret=secrets.token_hex(16), ca_path=str(ca.cert_path),
        control_url=f"http://127.0.0.1:{control_port}", control_token=secrets.token_urlsafe(24),
        time_scale=time_scale)
    settings = dict(endpoint.to_dict(), cert=str(pair.cert), key=str(pair.key), control_port=control_port,
                    qemu_server=asdict(qemu) if qemu else None, boot_vms=bool(qemu and boot_vms))
    config_path = layout.pve / "config.json"
    write_private(config_path, json.dumps(settings, indent=2).encode())
    argv = [sys.executable, "-m", "tests.testbed.pve", "--config", str(config_path)]
    component = Component(name="fakepve", argv=argv, log=str(layout.log("fakepve")),
                          pidfile=str(layout.pidfile("fakepve")),
                          probe=Probe(url=f"{endpoint.control_url}/ping", expect="ok"), ready_timeout=60.0,
                          env={"PYTHONPATH": str(REPO_ROOT)})
    return endpoint, component


def _testbed_pve_class():
    """TestbedPve, built on first use so importing this module does not import fakepve."""
    from fakepve import FakePve
    from fakepve.lxc import format_size, parse_size
    from fakepve.model import PveError
    from fakepve.qemu import join_drive, split_drive
    from fakepve.server import API, ok, params

    from .pve_agent import CloudInitAgent

    class TestbedPve(CloudInitAgent, FakePve):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.task_failures = []
            self.qemu_server = None
            self.boot_vms = False

        def fail_task(self, method, suffix, message, times=None, params=None):
            """Requests `method` on a path ending in suffix (and with these body/query params) answer a UPID
            whose task ends in `TASK ERROR: message`, as when a PVE worker dies; `times` limits how many."""
            self.task_failures.append({"method": method, "suffix": suffix, "message": message, "times": times,
                                       "params": dict(params or {})})

        def expire_tickets(self):
            for session in self.tickets.values():
                session["expires"] = time.time() - 1

        def _routes_testbed_qemu(self):
            return [("PUT", "/nodes/{node}/qemu/{vmid}/resize", self._qm_resize)]

        async def _qm_resize(self, values, user):
            """qemu-server's resize: size is absolute or +increment; the drive's size= grows, never shrinks."""
            vm = self.find(values["node"], values["vmid"])
            self._check_lock(vm)
            disk, text = values["disk"], str(values["size"])
            if disk not in vm.config:
                raise PveError(500, f"disk '{disk}' does not exist")
            volume, props = split_drive(vm.config[disk])
            current = parse_size(props.get("size", "0")) or 0
            wanted = parse_size(text.lstrip("+"))
            if wanted is None:
                raise PveError(400, f"Parameter verification failed. (size: unable to parse size '{text}')")
            new = current + wanted if text.startswith("+") else wanted
            if new < current:
                raise PveError(500, "shrinking disks is not supported")

            async def body():
                props["size"] = format_size(new)
                vm.config[disk] = join_drive(volume, props)
            return await self.task(vm.node, "resize", vm.vmid, user, body, vm=vm)

        async def _task_failure(self, request):
            for rule in list(self.task_failures):
                if request.method != rule["method"] or not request.path.endswith(rule["suffix"]):
                    continue
                values = await params(request)
                if any(str(values.get(k)) != str(v) for k, v in rule["params"].items()):
                    continue
                if rule["times"] is not None:
                    rule["times"] -= 1
                    if rule["times"] <= 0:
                        self.task_failures.remove(rule)
                return rule["message"]
            return None

        async def _answer(self, request, handler, generic, path_node):
            message = await self._task_failure(request) if self.task_failures else None
            if message is None:
                return await super()._answer(request, handler, generic, path_node)
            match = generic or self.resolve(request, API)
            return ok(await self._failed_task(request, path_node, message, match))

    return TestbedPve


def clear_all_faults(pve) -> None:
    from .pve_seed import clear_faults
    clear_faults(pve)
    pve.task_failures.clear()


def reset_all(pve) -> None:
    from .pve_seed import reset
    reset(pve)
    pve.task_failures.clear()
    if pve.qemu_server is not None:
        # Before the next test may reuse a vmid: the removed VMs' machines and disks go now.
        pve.qemu_server.remove_gone({vm.vmid for vm in pve.vms})


async def serve(settings: dict) -> None:
    from aiohttp import web

    from .pve_control import control_app
    from .pve_seed import seed

    testbed_pve = _testbed_pve_class()
    pve = testbed_pve(user=settings["user"], password=settings["password"], host=settings["host"],
                      port=settings["port"])
    pve.time_scale = settings["time_scale"]
    pve.apitokens[settings["token_id"]] = settings["token_secret"]
    if settings.get("qemu_server"):
        pve.qemu_server = QemuServer(QemuServerConfig.from_dict(settings["qemu_server"]))
        pve.boot_vms = settings["boot_vms"]
        # A fresh fakepve knows no VM: machines an earlier run of it left go, disks included.
        pve.qemu_server.remove_all()
    seed(pve)
    await pve.start(settings["cert"], settings["key"])
    control = web.AppRunner(control_app(pve, settings["control_token"], clear_all_faults, reset_all))
    await control.setup()
    await web.TCPSite(control, "127.0.0.1", settings["control_port"]).start()
    print(f"fakepve listening on {pve.url}, control on 127.0.0.1:{settings['control_port']}", flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    following = asyncio.create_task(pve.qemu_server.follow(pve, stopping)) if pve.qemu_server else None
    await stopping.wait()
    if following is not None:
        await following
    await control.cleanup()
    await pve.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="the 0600 JSON file written by prepare()")
    args = parser.parse_args()
    asyncio.run(serve(json.loads(Path(args.config).read_text())))


if __name__ == "__main__":
    main()
