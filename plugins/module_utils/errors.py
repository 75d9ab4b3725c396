# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors raised below the modules.

Nothing under module_utils calls fail_json: it raises one of these and the module turns
it into a single clear message. Every room subclasses GpveError so a module can catch
the whole family in one place.
"""

from __future__ import annotations


class GpveError(Exception):
    """Base of every error gpve.cluster raises on purpose."""


class ValidationError(GpveError):
    """Bad input. Raised before the first write; names the field and the fix."""

    def __init__(self, field, message):
        self.field = field
        super().__init__(f"{field}: {message}")


def after_writes(exc, made, resume, summary=None):
    """Mark exc as raised after the run wrote something, and return it to re-raise.

    made says what the run made (plain data for the task result), resume how to go on, summary (optional) the same
    as made in one sentence. The module then fails with changed=true, made and resume beside the message, and the
    summary and resume after it (module_runner.error_details, failure_message): Ansible users see that something
    changed, what exists, and what to do next.
    """
    exc.made = made
    exc.resume = resume
    exc.summary = summary
    return exc
