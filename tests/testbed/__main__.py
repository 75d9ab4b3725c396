"""The testbed for humans: ``python -m tests.testbed up|down|status|build``.

``up`` (``make testbed-up``) starts etcd, the Kubernetes control plane, the nodes (machines
running containerd, the kubelet and kube-proxy; ``--nodes N``, or ``--standin`` for the node
stand-in on loopback), CoreDNS, fakepve and a throwaway PostgreSQL in the background and
writes ``.testbed/env``; ``source`` it to point tools (and pytest: ``GPVE_TESTBED_ENV``) at
the running testbed. ``down`` (``make testbed-down``) stops every process and machine and
removes the state, the testbed network and cgroups, but keeps ``.testbed/logs``. ``build``
builds (or finds in the cache) every binary, the machine image and the image bundle, and
prints how long each took.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from .layout import DEFAULT_STATE_DIR, Layout
from .pve import DEFAULT_TIME_SCALE
from .testbed import REAL, STANDIN, Testbed


def _state_dir(args) -> Path:
    return Path(args.state_dir or os.environ.get("GPVE_TESTBED_STATE_DIR") or DEFAULT_STATE_DIR)


def _existing(layout: Layout) -> Testbed | None:
    return Testbed.load(layout.root) if layout.record_file.exists() else None


def _clear_state(layout: Layout) -> None:
    """Remove everything but the logs."""
    if not layout.root.exists():
        return
    for entry in layout.root.iterdir():
        if entry.name == "logs":
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def up(args) -> int:
    layout = Layout(_state_dir(args).resolve())
    existing = _existing(layout)
    if existing is not None:
        running = [name for name, c in existing.components.items() if c.running()]
        if running:
            print(f"testbed already running in {layout.root} ({', '.join(running)}); "
                  f"`make testbed-down` first to start afresh", file=sys.stderr)
            return 0 if len(running) == len(existing.components) else 1
    _clear_state(layout)
    time_scale = float(os.environ.get("GPVE_TESTBED_PVE_TIME_SCALE", DEFAULT_TIME_SCALE))
    started = time.monotonic()
    testbed = Testbed.create(layout.root, with_postgres=not args.no_postgres, pve_time_scale=time_scale,
                             nodes=args.nodes, node_mode=STANDIN if args.standin else REAL,
                             boot_vms=args.boot_vms)
    print(f"testbed up in {time.monotonic() - started:.1f}s (seconds since start: "
          + ", ".join(f"{k} {v}" for k, v in testbed.record["timings"].items()) + ")")
    print(f"  kubernetes  {testbed.api_url}  nodes {', '.join(testbed.node_names)}")
    print(f"  proxmox     {testbed.pve.url}  (control {testbed.pve.control_url})")
    if testbed.pg_dsn:
        print(f"  postgresql  {testbed.pg_dsn}")
    print(f"  logs        {layout.root / 'logs'}")
    print(f"source {layout.env_file}")
    return 0


def down(args) -> int:
    layout = Layout(_state_dir(args).resolve())
    existing = _existing(layout)
    if existing is None:
        _remove_network_of(layout)
        print(f"no testbed recorded in {layout.root}")
        return 0
    existing.stop()
    _clear_state(layout)
    print(f"testbed in {layout.root} stopped (logs kept in {layout.root / 'logs'})")
    return 0


def _remove_network_of(layout: Layout) -> None:
    """A testbed that died before writing its record may still own the network: take it down."""
    from . import machine, network
    if network.OWNER_FILE.exists() and network.OWNER_FILE.read_text().strip() == str(layout.root):
        network.down()
        machine.remove_testbed_cgroups()
        network.release(layout.root)


def build(args) -> int:
    from . import binaries, images
    versions = binaries.KUBERNETES_VERSIONS if args.all else (binaries.DEFAULT_KUBERNETES_VERSION,)
    tools = binaries.TOOL_VERSIONS if args.all else binaries.SUITE_TOOLS
    steps = {
        **{f"kubernetes {v}": (lambda v=v: binaries.kubernetes(v)) for v in versions},
        **{name: (lambda name=name: binaries.tool(name)) for name in tools},
        "pause": binaries.pause, "machine image": binaries.machine_image,
        **{f"image bundle {v}": (lambda v=v: images.bundle_dir(v)) for v in versions},
    }
    for what, step in steps.items():
        started = time.monotonic()
        where = step()
        print(f"{what:28} {time.monotonic() - started:7.1f}s  {where}")
    return 0


def status(args) -> int:
    layout = Layout(_state_dir(args).resolve())
    existing = _existing(layout)
    if existing is None:
        print(f"no testbed recorded in {layout.root}")
        return 1
    healthy = True
    for name, state in existing.status().items():
        healthy = healthy and state["ready"]
        pid = state["pid"] or "-"
        print(f"{name:26} pid {pid!s:>8}  {'ready' if state['ready'] else 'NOT READY'}")
    return 0 if healthy else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.testbed", description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", help=f"default: $GPVE_TESTBED_STATE_DIR or {DEFAULT_STATE_DIR}")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="start the testbed in the background and write <state>/env")
    start.add_argument("--no-postgres", action="store_true", help="do not start the throwaway PostgreSQL")
    start.add_argument("--nodes", type=int, default=1, help="how many nodes (default 1)")
    start.add_argument("--standin", action="store_true", help="play the nodes with the node stand-in")
    start.add_argument("--boot-vms", action="store_true",
                       help="VMs that fakepve starts boot as machines (real nodes only; default: they stay API objects, "
                            "which the test suite expects)")
    builder = commands.add_parser("build", help="build or find every binary, the machine image and the image bundle")
    builder.add_argument("--all", action="store_true",
                         help="every Kubernetes release the testbed knows (for upgrades), not only the default "
                              "one the test suite needs")
    commands.add_parser("down", help="stop every testbed process by pid and remove the state (logs kept)")
    commands.add_parser("status", help="pid and readiness of each component")
    args = parser.parse_args(argv)
    return {"up": up, "down": down, "status": status, "build": build}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
