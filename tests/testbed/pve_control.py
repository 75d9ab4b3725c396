"""The fakepve control channel: inject faults into the running fake from another process.

fakepve exposes its scenarios (failures, quorum, offline nodes, locks, network trouble,
tickets) as Python methods only, and the testbed runs it in its own process. This is a
small HTTP/JSON server beside the fake's API, on 127.0.0.1 (plain HTTP, loopback only,
every request but ``/ping`` needs ``Authorization: Bearer <control token>``), and the
client tests use. The API port stays untouched: a fault such as a flaky network or
revoked tickets never cuts the test off from its own controls.

    POST /call   {"method": "<fakepve scenario>", "args": [...], "kwargs": {...}} -> {"result": ...}
    POST /set    {"name": "<fake setting>", "value": ...}
    POST /vm/<vmid> {"<vm attribute>": value, ...}
    POST /clear-faults, POST /reset, GET /state, GET /requests, GET /ping
"""

from __future__ import annotations

import hmac
import inspect
import json
import urllib.error
import urllib.request

# fakepve.Model scenarios that may be called (see fakepve's model.py for their arguments).
CALLS = frozenset((
    "fail", "fail_task", "errors_for", "lose_quorum", "regain_quorum", "set_node_offline", "add_node",
    "hold_config_lock", "release_config_lock", "snapshot_lock", "unlock", "backup", "migrate",
    "slow_network", "flaky_network", "revoke_tickets", "expire_tickets",
    "add_ceph_storage", "ceph_slow", "ceph_down", "ceph_recover", "store_file",
))
# A reset removes the machines of every VM it drops, after the follower's pass in progress (which may be removing
# a deleted cluster's): minutes on a loaded host, not the 30 s of other requests.
RESET_TIMEOUT = 300.0
SETTINGS = frozenset(("time_scale", "ticket_ttl", "lock_wait", "latency", "tfa", "shutdown_default_timeout",
                      "ha_delay", "agent_boot_secs", "boot_vms"))
VM_ATTRIBUTES = frozenset(("agent_hangs", "agent_down", "start_error", "shutdown_secs", "start_secs", "stop_secs",
                           "acpi", "ha_state"))


class ControlError(RuntimeError):
    """The control channel refused or failed a request."""


# ------------------------------------------------------------------ server


def control_app(pve, token: str, clear_faults, reset):
    """The aiohttp application serving the control channel for pve."""
    from aiohttp import web  # the server side only: clients need nothing beyond the standard library

    def guarded(handler):
        async def check(request):
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return web.json_response({"error": "unauthorized"}, status=401)
            try:
                return web.json_response(await handler(request))
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                return web.json_response({"error": f"{type(exc).__name__}: {exc}"}, status=400)
            except Exception as exc:  # noqa: BLE001 - report whatever the fake raised to the test
                return web.json_response({"error": f"{type(exc).__name__}: {exc}"}, status=500)
        return check

    async def call(request):
        body = await request.json()
        if body["method"] not in CALLS:
            raise ValueError(f"not a control call: {body['method']}")
        result = getattr(pve, body["method"])(*body.get("args", []), **body.get("kwargs", {}))
        if inspect.isawaitable(result):
            result = await result
        return {"result": result}

    async def set_setting(request):
        body = await request.json()
        if body["name"] not in SETTINGS:
            raise ValueError(f"not a setting: {body['name']}")
        if body["name"] == "boot_vms" and body["value"] and pve.qemu_server is None:
            raise ValueError("boot_vms: this testbed's nodes are stand-ins, so its VMs cannot boot (start it with real nodes)")
        setattr(pve, body["name"], body["value"])
        return {"result": None}

    async def set_vm(request):
        vm = pve.guest(int(request.match_info["vmid"]))
        if vm is None:
            raise KeyError(f"no guest {request.match_info['vmid']}")
        body = await request.json()
        unknown = set(body) - VM_ATTRIBUTES
        if unknown:
            raise ValueError(f"not VM attributes: {sorted(unknown)}")
        for name, value in body.items():
            setattr(vm, name, value)
        return {"result": None}

    async def state(_request):
        return {"nodes": pve.nodes, "quorate": pve.quorate, "time_scale": pve.time_scale,
                "agent_boot_secs": getattr(pve, "agent_boot_secs", None), "boot_vms": pve.boot_vms,
                "boot_errors": {str(vmid): why for vmid, (_at, why) in
                                (pve.qemu_server.boot_errors.items() if pve.qemu_server else [])},
                "failures": [list(key) for key in pve.failures],
                "vms": [{"vmid": vm.vmid, "name": vm.name, "node": vm.node, "status": vm.status,
                         "template": bool(vm.template), "lock": vm.lock, "config": vm.config} for vm in pve.vms]}

    async def requests_seen(_request):
        return {"requests": [[method, path] for method, path, _body in pve.requests]}

    async def do_clear(_request):
        clear_faults(pve)
        return {"result": None}

    async def do_reset(_request):
        reset(pve)
        return {"result": None}

    async def ping(_request):
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/ping", ping)
    app.router.add_post("/call", guarded(call))
    app.router.add_post("/set", guarded(set_setting))
    app.router.add_post("/vm/{vmid}", guarded(set_vm))
    app.router.add_get("/state", guarded(state))
    app.router.add_get("/requests", guarded(requests_seen))
    app.router.add_post("/clear-faults", guarded(do_clear))
    app.router.add_post("/reset", guarded(do_reset))
    return app


# ------------------------------------------------------------------ client


class PveControl:
    """Client of the control channel: ``control.call("lose_quorum")``, or the helpers below."""

    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self._token = token

    def _request(self, method: str, path: str, body: dict | None = None, timeout: float = 30.0):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self._token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            raise ControlError(f"{method} {path}: {exc.code} {exc.read().decode(errors='replace')}") from None

    def call(self, method: str, *args, **kwargs):
        """Call a fakepve scenario method (one of CALLS) with JSON-able arguments; returns its result."""
        return self._request("POST", "/call", {"method": method, "args": list(args), "kwargs": kwargs})["result"]

    def set(self, name: str, value) -> None:
        self._request("POST", "/set", {"name": name, "value": value})

    def set_vm(self, vmid: int, **attributes) -> None:
        self._request("POST", f"/vm/{vmid}", attributes)

    def state(self) -> dict:
        return self._request("GET", "/state")

    def requests(self) -> list[list[str]]:
        """[method, path] of every API request the fake saw, oldest first."""
        return self._request("GET", "/requests")["requests"]

    def clear_faults(self) -> None:
        self._request("POST", "/clear-faults")

    def reset(self) -> None:
        """Faults cleared and every guest the seed did not create removed (their machines and disks too: a
        cluster's worth of VMs can take a minute on a loaded host)."""
        self._request("POST", "/reset", timeout=RESET_TIMEOUT)

    # The faults the testbed's tests use most, by name.

    def fail_clone(self, node: str, vmid: int, message: str = "clone failed: storage error",
                   newid: int | None = None, times: int | None = None) -> None:
        """Clones of vmid on node (only to newid, if given) answer a UPID whose task ends in TASK ERROR: message."""
        params = {"newid": str(newid)} if newid is not None else None
        self.call("fail_task", "POST", f"/nodes/{node}/qemu/{vmid}/clone", message, times=times, params=params)

    def hold_lock(self, vmid: int, secs: float | None = None) -> None:
        """Another task holds the VM's config lock (until release_lock, or for secs PVE seconds)."""
        self.call("hold_config_lock", vmid, secs)

    def release_lock(self, vmid: int) -> None:
        self.call("release_config_lock", vmid)

    def node_offline(self, node: str, offline: bool = True) -> None:
        self.call("set_node_offline", node, offline)

    def lose_quorum(self) -> None:
        self.call("lose_quorum")

    def regain_quorum(self) -> None:
        self.call("regain_quorum")

    def expire_tickets(self) -> None:
        """Every login ticket issued so far is past its lifetime: the next request with it gets 401."""
        self.call("expire_tickets")

    def agent_never_answers(self, vmid: int) -> None:
        self.set_vm(vmid, agent_hangs=True)
