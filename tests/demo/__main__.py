"""``make demo`` / ``python -m tests.demo [--keep] [--ha]``: the collection end to end on the testbed.

Steps (STEPS below, in order; each takes the Demo): a real kubeadm cluster on the testbed's
booted VMs through playbooks/k8s_vm/create.yml (1 control plane + 1 worker; ``--ha``, ``make
demo HA=1``: 3 control planes, an haproxy VM with a virtual IP, 2 workers) and its nodes from its
own API server, the testbed's own cluster imported as an external cluster through
playbooks/external/import.yml (which prints gpve_cluster_info's clusters as a table), the
registry's view of every cluster, the dynamic inventory. The demo prints each step's time and
the total.

At the end the demo leaves things as it found them: a testbed it started is stopped (its
state, the demo registry with it, removed: ``make testbed-down``); on a testbed that was
already running, what the demo made is removed (the cluster's VMs destroyed and its
registry row kept as Deleted, the external cluster disconnected, the Nodes and API objects it
added deleted). ``--keep``
(``make demo KEEP=1``) leaves everything running and prints how to look and how to stop.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager

from . import external_step, k8s_vm_step, views
from .environment import Demo, open_testbed, stop_testbed

STEPS = (k8s_vm_step.create_cluster, external_step.import_testbed, views.print_registry, views.print_inventory)


class StepTimes:
    """Each step's wall time, printed as it ends and summed up at the end."""

    def __init__(self):
        self.started = time.monotonic()
        self.seconds: dict[str, float] = {}

    @contextmanager
    def step(self, name: str):
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = time.monotonic() - started
            print(f"[{name}: {self.seconds[name]:.0f}s]", flush=True)

    def total(self) -> float:
        return time.monotonic() - self.started

    def summary(self) -> str:
        return ", ".join(f"{name} {seconds:.0f}s" for name, seconds in self.seconds.items())


def _finish(demo: Demo) -> None:
    if demo.undoing:
        print("\n== Giving the testbed back as it was (it was running before the demo; --keep leaves it all)")
        for undo in reversed(demo.undo):
            undo()
    for close in reversed(demo.closing):
        close()
    if demo.keep:
        state = demo.testbed.state_dir
        print(f"\nThe testbed keeps running (--keep), the demo cluster on its booted VMs. Look around:\n"
              f"  source {state / 'env'}\n  export GPVE_REGISTRY={demo.registry}\n"
              f"  kubectl --kubeconfig {demo.workdir / 'demo-admin.conf'} get nodes -o wide\n"
              f"  ansible-inventory -i inventories/demo/gpve.yml --graph\n"
              f"Stop it (the demo registry goes with it): make testbed-down"
              + ("" if state.name == ".testbed" else f" (or: python -m tests.testbed --state-dir {state} down)"))
    elif demo.started_testbed:
        print("\n== Stopping the testbed the demo started (--keep leaves it running)")
        stop_testbed(demo.testbed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave the testbed and the demo cluster running")
    parser.add_argument("--ha", action="store_true", help="3 control planes behind an haproxy VM and 2 workers "
                                                          "(default: 1 control plane and 1 worker)")
    args = parser.parse_args(argv)
    times = StepTimes()
    with times.step("testbed"):
        testbed, started_testbed = open_testbed()
    demo = Demo(testbed=testbed, started_testbed=started_testbed, keep=args.keep, high_availability=args.ha)
    print(f"Testbed: {testbed.state_dir} ({'started by the demo' if started_testbed else 'already running'}); "
          f"Kubernetes {testbed.api_url}, Proxmox (fakepve) {testbed.pve.url}")
    try:
        for step in STEPS:
            with times.step(step.__name__):
                step(demo)
    finally:
        with times.step("give back" if demo.undoing else "finish"):
            _finish(demo)
    print(f"\nDemo done in {times.total():.0f}s ({times.summary()}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
