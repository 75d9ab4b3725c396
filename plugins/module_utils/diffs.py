# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Before/after views for diff mode that never carry a secret: a secret shows as a short digest, so a diff says
that it changes without saying what it is."""

from __future__ import annotations

import hashlib


def secret_digest(text):
    """'sha256:<16 hex>' of a secret, or None for no secret."""
    if text is None:
        return None
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def diff(before, after):
    """The module result's diff entry."""
    return {"before": before, "after": after}
