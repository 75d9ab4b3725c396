# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Selecting clusters, and reading everything around them in bulk (a fixed number of queries).

Selecting by ``name`` or ``id`` returns that one cluster in full; anything else is a
query returning summaries, ordered by name, with ``limit`` and ``offset``.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Dict, List, Optional

from ansible_collections.gpve.cluster.plugins.module_utils import checks
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds

ISSUED_PREFIX = "issued-"
FAILED_BACKUP_STATES = ("failed", "error", "pending", "running", "inprogress", "in_progress")


MAX_ROWS = 1000000
PHASE = re.compile(r"^[A-Z][A-Za-z]{1,31}$")


@dataclasses.dataclass
class Query:
    name: Optional[str] = None
    id: Optional[str] = None
    types: Optional[List[str]] = None
    phases: Optional[List[str]] = None
    labels: Optional[Dict[str, str]] = None
    limit: Optional[int] = None
    offset: int = 0

    @property
    def one(self):
        return bool(self.name or self.id)

    def check(self):
        if self.name is not None:
            checks.cluster_name(self.name, "name")
        if self.id is not None:
            checks.registry_id(self.id, "id")
        if self.limit is not None and self.limit < 1:
            raise ValidationError("limit", "must be at least 1")
        if self.limit is not None:
            checks.whole(self.limit, "limit", 1, MAX_ROWS)
        checks.whole(self.offset, "offset", 0, MAX_ROWS)
        checks.labels(self.labels, "labels")
        for index, phase in enumerate(self.phases or []):
            if not isinstance(phase, str) or not PHASE.match(phase):
                raise ValidationError(f"phase[{index}]", f"{checks.shown(phase)} is not a phase name (Running, Failed, ...)")


@dataclasses.dataclass
class Selection:
    """The selected clusters and what was read around them, all in bulk."""

    clusters: list
    total: int
    nodes: Dict[str, list]
    credentials: Dict[str, list]
    last_backups: Dict[str, object]


def _filters(query):
    return dict(ids=[query.id] if query.id else None, name=query.name, type=query.types or None,
                phase=query.phases or None, labels=query.labels or None)


def _last_backups(store, cluster_ids):
    newest = {}
    wanted = set(cluster_ids)
    for backup in store.list_backups(cluster_id=cluster_ids[0] if len(cluster_ids) == 1 else None):
        if backup.cluster_id not in wanted or not backup.completed_at:
            continue
        if str(backup.status).lower().replace(" ", "") in FAILED_BACKUP_STATES:
            continue
        current = newest.get(backup.cluster_id)
        if current is None or backup.completed_at > current.completed_at:
            newest[backup.cluster_id] = backup
    return newest


def select(store, query):
    query.check()
    filters = _filters(query)
    clusters = store.query_clusters(limit=query.limit, offset=query.offset, **filters)
    total = len(clusters) if query.one else store.count_clusters(**filters)
    ids = [cluster.id for cluster in clusters]
    credentials = {cluster_id: [] for cluster_id in ids}
    for info in store.list_credentials(cluster_id=ids[0] if len(ids) == 1 else None) if ids else []:
        if info.cluster_id in credentials:
            credentials[info.cluster_id].append(info)
    return Selection(clusters=clusters, total=total, nodes=store.nodes_for(ids) if ids else {},
                     credentials=credentials, last_backups=_last_backups(store, ids) if ids else {})


def kubeconfig_expiry(credentials):
    for info in credentials:
        if info.type == kinds.KUBECONFIG:
            return info.expires_at
    return None


def issued_expiry(credentials):
    expiries = [info.expires_at for info in credentials if info.type.startswith(ISSUED_PREFIX) and info.expires_at]
    return max(expiries) if expiries else None
