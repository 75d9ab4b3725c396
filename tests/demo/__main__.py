"""``make demo`` / ``python -m tests.demo [--keep]``: the collection end to end on the testbed.

Steps (STEPS below, in order; each takes the Demo): a K8s-on-VM cluster through
playbooks/k8s_vm/create.yml, the testbed's own cluster imported as an external cluster through
playbooks/external/import.yml (which prints gpve_cluster_info's clusters as a table), the
registry's view of every cluster, the dynamic inventory.

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

from . import external_step, k8s_vm_step, views
from .environment import Demo, open_testbed, stop_testbed

STEPS = (k8s_vm_step.create_cluster, external_step.import_testbed, views.print_registry, views.print_inventory)


def _finish(demo: Demo) -> None:
    if demo.undoing:
        print("\n== Giving the testbed back as it was (it was running before the demo; --keep leaves it all)")
        for undo in reversed(demo.undo):
            undo()
    for close in reversed(demo.closing):
        close()
    if demo.keep:
        state = demo.testbed.state_dir
        print(f"\nThe testbed keeps running (--keep), the demo cluster in it (its Nodes turn NotReady: the kubelet "
              f"stand-in ended with the demo). Look around:\n"
              f"  source {state / 'env'}\n  export GPVE_REGISTRY={demo.registry}\n"
              f"  ansible-inventory -i inventories/demo/gpve.yml --graph\n"
              f"Stop it (the demo registry goes with it): make testbed-down"
              + ("" if state.name == ".testbed" else f" (or: python -m tests.testbed --state-dir {state} down)"))
    elif demo.started_testbed:
        print("\n== Stopping the testbed the demo started (--keep leaves it running)")
        stop_testbed(demo.testbed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave the testbed and the demo cluster running")
    args = parser.parse_args(argv)
    started = time.monotonic()
    testbed, started_testbed = open_testbed()
    demo = Demo(testbed=testbed, started_testbed=started_testbed, keep=args.keep)
    print(f"Testbed: {testbed.state_dir} ({'started by the demo' if started_testbed else 'already running'}); "
          f"Kubernetes {testbed.api_url}, Proxmox (fakepve) {testbed.pve.url}")
    try:
        for step in STEPS:
            step(demo)
    finally:
        _finish(demo)
    print(f"\nDemo done in {time.monotonic() - started:.0f}s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
