# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors of the PKI room."""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError


class PkiError(GpveError):
    """A stored bundle cannot be used as is: a CA is missing or broken, an entry does not parse.

    The message names the entry (for example ``ca.key``) and never carries its content.
    """


class MissingCryptographyError(PkiError):
    """The Python cryptography library is not installed where the module runs."""
