# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Marking registry values unsafe before they reach the inventory, so Ansible never templates them.

The one copy in the collection. community.general (a declared dependency) ships the same
``make_unsafe`` (its plugin_utils/unsafe.py: only strings that could hold a template, a ``{``
or ``}``, are wrapped, which keeps thousands of hosts cheap). It is not imported from there
for two reasons: ``make sanity`` checks this collection alone in its tree, where community.general
is not installed, so the inventory plugin would fail the import test; and the inventory needs
``unsafe_vars``, a per-host form that decides the common value (a plain string, None, a bool or a
number) with one type check instead of a recursive call (the 10,000-host inventory bench).
From ansible-core 2.19 on, strings from a plugin are untrusted already and wrapping only removes
a trust tag.
"""

from __future__ import annotations

from collections.abc import Mapping, Set

from ansible.utils.unsafe_proxy import AnsibleUnsafe, wrap_var

_PLAIN = (type(None), bool, int, float)


def _unsafe_text(value):
    return wrap_var(value) if ("{" in value or "}" in value) else value


def make_unsafe(value):
    """value with every string that contains a template character wrapped as unsafe (recursively)."""
    if value is None or isinstance(value, (bool, int, float, AnsibleUnsafe)):
        return value
    if isinstance(value, str):
        return _unsafe_text(value)
    if isinstance(value, bytes):
        return wrap_var(value) if (b"{" in value or b"}" in value) else value
    if isinstance(value, Mapping):
        return {make_unsafe(key): make_unsafe(item) for key, item in value.items()}
    if isinstance(value, Set):
        return {make_unsafe(item) for item in value}
    if isinstance(value, (list, tuple)):
        return type(value)(make_unsafe(item) for item in value)
    return value


def unsafe_vars(variables):
    """A new dict of variables (name -> value) with make_unsafe applied to every value.

    The common case, a plain str without a brace or a None/bool/number, is decided inline:
    one type check per value instead of a recursive call.
    """
    result = {}
    for key, value in variables.items():
        kind = type(value)
        if kind is str:
            result[key] = _unsafe_text(value)
        elif kind in _PLAIN:
            result[key] = value
        else:
            result[key] = make_unsafe(value)
    return result
