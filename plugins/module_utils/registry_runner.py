# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_runner's ending for a module with a registry: open it, run the service, deliver webhooks, end once."""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError
from ansible_collections.gpve.cluster.plugins.module_utils.events.dispatch import deliver_pending_quietly
from ansible_collections.gpve.cluster.plugins.module_utils.module_runner import fail, finish
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry


def committed_writes(module, store):
    """True when the run committed a registry change outside check mode (store may be None: never opened)."""
    return bool(store is not None and store.wrote and not module.check_mode)


def run_on_registry(module, work, deliver_events=True, **open_options):
    """Open the registry of module.params['registry'], result = work(store), and end the module.

    A run that committed a registry change reports changed: true, a failed one included (Store.wrote).
    Store notices (a generated key file, say) become warnings. When the run changed something
    outside check mode, the events it wrote are delivered to webhook subscribers (briefly;
    what does not get through waits for the next run). Diff mode keeps result['diff'].
    """
    store = None
    try:
        with open_registry(module.params['registry'], **open_options) as store:
            result = work(store)
            if committed_writes(module, store):
                result['changed'] = True  # a run that wrote something says so, whatever its service concluded
            if deliver_events and result.get('changed') and not module.check_mode:
                deliver_pending_quietly(store, module.warn)
            for notice in store.notices:
                module.warn(notice)
    except GpveError as exc:
        # A run that failed after writing (a phase, an event, a node row, a VM) reports changed too.
        fail(module, exc, committed_writes(module, store))
    finish(module, result)
