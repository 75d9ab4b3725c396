# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit log: who changed what, written in the same transaction as the change.

The actor is, in order: the ``actor`` given to open_registry (a module may pass the
``awx_user_name`` extra var it received); ``GPVE_ACTOR``; an AWX / Automation Controller
job (the controller exports ``JOB_ID`` together with ``AWX_HOST`` to every job it runs);
otherwise the local user and host. Details never carry secrets: credential writes record
the type and key id only.
"""

from __future__ import annotations

import getpass
import os
import socket

from ansible_collections.gpve.cluster.plugins.module_utils.registry.awx import in_awx_job
from ansible_collections.gpve.cluster.plugins.module_utils.registry.records import AuditEntry
from ansible_collections.gpve.cluster.plugins.module_utils.registry.transaction import utcnow

ACTOR_ENV = "GPVE_ACTOR"


def detect_actor(environ=None):
    """A short string naming who is making changes through this process."""
    environ = os.environ if environ is None else environ
    if environ.get(ACTOR_ENV):
        return environ[ACTOR_ENV]
    if in_awx_job(environ):
        return f"awx:job/{environ['JOB_ID']}@{environ['AWX_HOST']}"
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid:{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def record(tx, actor, action, entity, entity_id, cluster_id=None, details=None):
    tx.execute("INSERT INTO audit_log (at, actor, action, entity, entity_id, cluster_id, details) VALUES (?, ?, ?, ?, ?, ?, ?)",
               (utcnow(), actor, action, entity, entity_id, cluster_id, details or {}))


def list_entries(tx, cluster_id=None, entity=None, limit=100):
    """Newest first."""
    where, params = [], []
    if cluster_id is not None:
        where.append("cluster_id = ?")
        params.append(cluster_id)
    if entity is not None:
        where.append("entity = ?")
        params.append(entity)
    sql = "SELECT * FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq DESC"
    page, page_params = tx.paginate(limit, 0)
    return [AuditEntry(**row) for row in tx.all(sql + page, params + page_params)]
