# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generated once, read back after, leaves renewed when due; the CAs are never replaced.

A leaf is due when it is missing or unreadable, not signed by its CA, no longer says
what it must (the API server's SANs follow the endpoint and extra hosts), or expires
within ``renew_before``. Renewing issues a fresh key and certificate from the same CA.
A CA close to its own expiry is reported in warnings: rotating a CA changes every trust
relation and stays a deliberate act.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from ansible_collections.gpve.cluster.plugins.module_utils.pki import bundle as bundles
from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs, keys, layout

DEFAULT_RENEW_BEFORE = datetime.timedelta(days=30)
SERVICE_ACCOUNT = "sa"

MISSING = "missing"
UNREADABLE = "unreadable"
WRONG_ISSUER = "not signed by its CA"
CHANGED = "subject, SANs or usages changed"
EXPIRING = "expires soon"


@dataclass
class Outcome:
    """The bundle to store, and what happened: created from scratch, or which entries were renewed and why."""

    bundle: bundles.Bundle
    created: bool = False
    renewed: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)

    @property
    def changed(self):
        return self.created or bool(self.renewed)


def ensure_bundle(data, params, now=None, renew_before=DEFAULT_RENEW_BEFORE):
    """The bundle for params: generated when data is empty, else data read back with due leaves renewed."""
    now = now or certs.utcnow()
    if not data:
        return Outcome(bundles.generate_bundle(params, now), created=True)
    layout.validate_params(params)
    current = bundles.load_bundle(data, params)
    outcome = Outcome(current, warnings=expiring_cas(current, now, renew_before))
    outcome.renewed = due_leaves(current, params, now, renew_before)
    if current.service_account_key is None:
        # Only when absent: a new signing key would invalidate every issued service-account token.
        current.service_account_key = keys.generate_private_key(params.algorithm)
        outcome.renewed[SERVICE_ACCOUNT] = MISSING
    renew(current, params, outcome.renewed, now)
    return outcome


def due_leaves(bundle, params, now, renew_before=DEFAULT_RENEW_BEFORE):
    """Leaf name -> reason for every leaf that must be issued again, in layout order."""
    due = {}
    for leaf in layout.leaves(params):
        reason = _reason(bundle, leaf, now, renew_before)
        if reason:
            due[leaf.name] = reason
    return due


def renew(bundle, params, due, now):
    """Issue again, from the bundle's own CAs, every leaf named in due (other names are ignored)."""
    for leaf in layout.leaves(params):
        if leaf.name in due:
            bundle.leaves[leaf.name] = bundles.issue_leaf(bundle, leaf, params, now)
    bundle.unreadable = ()
    return bundle


def expiring_cas(bundle, now, renew_before=DEFAULT_RENEW_BEFORE):
    """Warnings for CAs that expire within renew_before (their leaves cannot outlive them)."""
    return [f"the CA {name!r} expires on {certs.not_after(issued.cert).date().isoformat()}; CAs are not "
            "renewed automatically, plan a rotation" for name, issued in bundle.cas.items()
            if certs.remaining(issued.cert, now) <= renew_before]


def _reason(bundle, leaf, now, renew_before):
    if leaf.name in bundle.unreadable:
        return UNREADABLE
    issued = bundle.leaves.get(leaf.name)
    if issued is None:
        return MISSING
    ca = bundle.cas[leaf.ca]
    if not certs.is_signed_by(issued.cert, ca.cert):
        return WRONG_ISSUER
    if not certs.matches(issued.cert, leaf.spec):
        return CHANGED
    # Renew only when a new leaf would last longer: one capped at its CA's expiry already would
    # not, and renewing it would repeat on every run.
    if certs.remaining(issued.cert, now) <= renew_before and certs.not_after(issued.cert) < certs.not_after(ca.cert):
        return EXPIRING
    return None
