# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors of the Kubernetes room."""

from __future__ import annotations

import json

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError


class KubeError(GpveError):
    """Anything that went wrong talking to an API server."""


class KubeConfigError(KubeError):
    """The connection options do not describe a usable API server."""


class KubeConnectionError(KubeError):
    """The API server could not be reached (refused, reset, timed out, TLS failure)."""


class KubeWaitTimeout(KubeError):
    """A condition did not hold in time; the message names the object and the condition."""


class KubeApiError(KubeError):
    """The API server answered with an error status.

    ``status`` is the HTTP status, ``reason`` the Status reason (Forbidden, NotFound,
    Conflict, Invalid...), ``message`` the server's own words: for a 403 they name the
    user, the verb, the resource and the namespace, which is the missing permission.
    """

    def __init__(self, status, reason, message, what, retry_after=None):
        self.status = status
        self.reason = reason
        self.server_message = message
        self.what = what
        # Seconds the server asked the client to wait before trying again (its Retry-After header), else None.
        self.retry_after = retry_after
        super().__init__(f"{what}: {reason or status}: {message}")

    @classmethod
    def from_exception(cls, exc, what):
        """Build from a kubernetes ApiException (its body is a Status object when the server sent one)."""
        return cls.from_status(exc.status, getattr(exc, "reason", None), exc.body, what,
                               retry_after_seconds(getattr(exc, "headers", None)))

    @classmethod
    def from_status(cls, status, reason, body, what, retry_after=None):
        """Build from an HTTP status, its reason phrase and the body (a Status object when the server sent one)."""
        message = ""
        try:
            document = json.loads(body or "{}")
        except (TypeError, ValueError):
            document = {}
        if isinstance(document, dict):
            reason = document.get("reason") or reason
            message = document.get("message") or ""
        return cls(status, reason, message or str(reason or ""), what, retry_after)


def retry_after_seconds(headers):
    """The whole seconds of a Retry-After header (as the API server sends it), else None."""
    value = (headers or {}).get("Retry-After")
    try:
        seconds = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None
