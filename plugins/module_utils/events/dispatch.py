# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Delivering the registry's new events to webhook subscribers (filled in with the subscriber store)."""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError


def deliver_pending(store):
    """Deliver every event subscribers have not been offered yet; returns the delivery results."""
    del store
    return []


def deliver_pending_quietly(store, warn):
    """deliver_pending for a module that already did its work: a delivery problem is a warning, not a failure."""
    try:
        return deliver_pending(store)
    except GpveError as exc:
        warn(f"webhook deliveries: {exc}")
        return []
