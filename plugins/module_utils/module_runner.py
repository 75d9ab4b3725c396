# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way a gpve.cluster module ends: run its service on the registry, then exit or fail once.

Everything below raises GpveError subclasses; here they become a single ``fail_json`` with
the message, ``changed`` (true once the run wrote something) and, where the error has them,
``error_type``, ``field``, ``reason``, ``made`` and ``resume``.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError
from ansible_collections.gpve.cluster.plugins.module_utils.events.dispatch import deliver_pending_quietly
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry


def error_details(exc, wrote=False):
    """The machine-readable parts of a GpveError for the task result, with ``changed``.

    A run that failed after writing reports changed=true, whichever way the write is known: the registry saw a
    committed change (wrote: Store.wrote, outside check mode), or the service marked the error as raised after
    it made something outside the registry too (errors.after_writes: VMs cloned), which adds what was made and
    how to resume.
    """
    details = dict(error_type=type(exc).__name__)
    for attribute in ('field', 'reason', 'made', 'resume'):
        if getattr(exc, attribute, None) is not None:
            details[attribute] = getattr(exc, attribute)
    details['changed'] = bool(wrote) or 'made' in details
    return details


def committed_writes(module, store):
    """True when the run committed a registry change outside check mode (store may be None: never opened)."""
    return bool(store is not None and store.wrote and not module.check_mode)


def apply_connection_settings(module, resolve):
    """module.params with the connection settings resolve(params) gives (connection_settings' precedence rule).

    Secrets read from the environment are hidden from the output as no_log options are; the rule's warnings
    are shown; a conflict or a missing setting ends the module here, before anything is read or written.
    Returns the connection_settings.Resolved.
    """
    try:
        resolved = resolve(module.params)
    except GpveError as exc:
        module.fail_json(msg=str(exc), **error_details(exc))
    for secret in resolved.secrets:
        module.no_log_values.add(secret)
    for warning in resolved.warnings:
        module.warn(warning)
    module.params.update(resolved.values)
    return resolved


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
        module.fail_json(msg=str(exc), **error_details(exc, committed_writes(module, store)))
    if not module._diff:  # pylint: disable=protected-access
        result.pop('diff', None)
    module.exit_json(**result)
