# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How long an issued kubeconfig lives: the seed's security.kubeconfig settings (default 24h, max 168h)."""

from __future__ import annotations

import datetime

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

DEFAULT_HOURS = 24
MAX_HOURS = 168
# Signers backdate certificates a little for clock skew; an issued certificate may end this much later.
TOLERANCE = datetime.timedelta(minutes=5)


def checked_hours(hours):
    if hours is None:
        return DEFAULT_HOURS
    if isinstance(hours, bool) or not isinstance(hours, int) or hours < 1 or hours > MAX_HOURS:
        raise ValidationError("expiry_hours", f"must be a whole number of hours from 1 to {MAX_HOURS} (the seed's maximum "
                                              f"kubeconfig expiry); got {hours!r}")
    return hours


def lifetime(hours):
    return datetime.timedelta(hours=checked_hours(hours))


def too_long(not_after, now, hours):
    """True when a certificate ending at not_after outlives what was asked for."""
    return not_after > now + lifetime(hours) + TOLERANCE
