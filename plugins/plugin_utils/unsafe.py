# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Marking registry values unsafe before they reach the inventory, so Ansible never templates them.

Like community.general's ``make_unsafe``: only strings that could hold a template (a ``{``
or ``}``) are wrapped, which keeps thousands of hosts cheap. From ansible-core 2.19 on,
strings from a plugin are untrusted already and wrapping only removes a trust tag.
"""

from __future__ import annotations

from collections.abc import Mapping, Set

from ansible.utils.unsafe_proxy import AnsibleUnsafe, wrap_var


def make_unsafe(value):
    """value with every string that contains a template character wrapped as unsafe (recursively)."""
    if value is None or isinstance(value, (bool, int, float, AnsibleUnsafe)):
        return value
    if isinstance(value, str):
        return wrap_var(value) if ("{" in value or "}" in value) else value
    if isinstance(value, bytes):
        return wrap_var(value) if (b"{" in value or b"}" in value) else value
    if isinstance(value, Mapping):
        return {make_unsafe(key): make_unsafe(item) for key, item in value.items()}
    if isinstance(value, Set):
        return {make_unsafe(item) for item in value}
    if isinstance(value, (list, tuple)):
        return type(value)(make_unsafe(item) for item in value)
    return value
