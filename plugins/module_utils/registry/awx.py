# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry inside an AWX / Automation Controller job.

A job runs in an execution environment container that is discarded when the job ends: a SQLite registry
there (the default path, and the key generated beside it) would vanish after every job, silently. A job
is recognised as audit.detect_actor recognises it: the controller exports JOB_ID and AWX_HOST to every job.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError


def in_awx_job(environ):
    return bool(environ.get("JOB_ID") and environ.get("AWX_HOST"))


def refuse_sqlite_in_awx_job(is_postgres, environ):
    """Raise before anything is opened when an AWX job would use a SQLite registry."""
    if is_postgres or not in_awx_job(environ):
        return
    raise ValidationError("registry", f"this AWX job (job {environ.get('JOB_ID')}) would keep the registry in a SQLite "
                          "file inside its container, which is discarded when the job ends; set registry, or "
                          "GPVE_REGISTRY (the 'gpve registry' credential type injects it), to a postgresql:// DSN, "
                          "with GPVE_SECURITY_ENCRYPTION_KEY")
