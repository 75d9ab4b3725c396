# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way a gpve.cluster module ends: run its service, then exit or fail once.

Every module ends through registry_runner.run_on_registry or, when it has no registry, run_without_registry
(this file imports no registry: a module without one needs none of its libraries); the request a module
builds from its options before anything is opened goes through prepared. Everything below raises
GpveError subclasses; here they become a single ``fail_json`` with the message, ``error_type``, ``changed``
(true once the run wrote something) and, where the error has them, ``field``, ``reason``, ``made`` and
``resume``. Ansible's own refusals (argument checks, a missing library) get the same shape from GpveModule.
"""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError


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


def apply_connection_settings(module, resolve):
    """module.params with the connection settings resolve(params) gives (connection_settings' precedence rule).

    Secrets read from the environment are hidden from the output as no_log options are; the rule's warnings
    are shown; a conflict or a missing setting ends the module here, before anything is read or written.
    Returns the connection_settings.Resolved.
    """
    try:
        resolved = resolve(module.params)
    except GpveError as exc:
        fail(module, exc)
    for secret in resolved.secrets:
        module.no_log_values.add(secret)
    for warning in resolved.warnings:
        module.warn(warning)
    module.params.update(resolved.values)
    return resolved


def require_library(module, available, name, import_error=None):
    """End the module, in the one failure shape, when the Python library name is not available."""
    if not available:
        details = dict(error_type="MissingDependency")
        if import_error is not None:
            details["exception"] = str(import_error)
        module.fail_json(msg=missing_required_lib(name), **details)


def failure_message(exc):
    """str(exc); after writes (errors.after_writes) followed by what exists and how to resume."""
    if getattr(exc, 'made', None) is None:
        return str(exc)
    parts = (str(exc), getattr(exc, 'summary', None), getattr(exc, 'resume', None))
    return ' '.join(part.rstrip('. ') + '.' for part in parts if part)


def fail(module, exc, wrote=False):
    """End the module with exc (a GpveError) in the one failure shape."""
    module.fail_json(msg=failure_message(exc), **error_details(exc, wrote))


def prepared(module, build):
    """build(): the run's request from the module's options, checked before anything is opened; a refusal ends the module."""
    try:
        return build()
    except GpveError as exc:
        return fail(module, exc)


def run_without_registry(module, work):
    """result = work(), and end the module: run_on_registry's ending for a module that keeps no registry."""
    try:
        result = work()
    except GpveError as exc:
        fail(module, exc)
    finish(module, result)


def finish(module, result):
    """Exit with result: its warnings shown, its diff kept in diff mode only."""
    for warning in result.pop('warnings', []):
        module.warn(warning)
    if not module._diff:  # pylint: disable=protected-access
        result.pop('diff', None)
    module.exit_json(**result)
