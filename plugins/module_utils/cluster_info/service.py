# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One gpve_cluster_info run: select, optionally check health and drift, optionally render Prometheus text.

Writes happen only with ``update_registry`` (health results) or ``dest`` (the textfile),
and never in check mode, which reports what would change.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

from ansible_collections.gpve.cluster.plugins.module_utils.cluster_info import health as cluster_health
from ansible_collections.gpve.cluster.plugins.module_utils.cluster_info import views
from ansible_collections.gpve.cluster.plugins.module_utils.cluster_info.query import Query, select
from ansible_collections.gpve.cluster.plugins.module_utils.drift.proxmox import drift_reports
from ansible_collections.gpve.cluster.plugins.module_utils import checks
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.health.verdict import DEFAULT_FAILURE_THRESHOLD
from ansible_collections.gpve.cluster.plugins.module_utils.metrics import textfile
from ansible_collections.gpve.cluster.plugins.module_utils.metrics.clusters import exposition
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds

JSON = "json"
PROMETHEUS = "prometheus"
# What a live health run observes replaces the registry's last-seen values in the returned view.
LIVE_FIELDS = ("version", "node_count", "ready_nodes", "pod_count")


MAX_THRESHOLD = 100
MAX_HEALTH_TIMEOUT_S = 300
MAX_EVENTS = 10000


@dataclasses.dataclass
class Request:
    query: Query
    health: bool = False
    update_registry: bool = False
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD
    health_timeout: float = 10.0
    drift: bool = False
    output_format: str = JSON
    dest: Optional[str] = None
    events_limit: int = 20
    check_mode: bool = False

    def check(self):
        if self.update_registry and not self.health:
            raise ValidationError("update_registry", "writes health results back: it needs health=true")
        if self.failure_threshold < 1:
            raise ValidationError("failure_threshold", "must be at least 1")
        checks.whole(self.failure_threshold, "failure_threshold", 1, MAX_THRESHOLD)
        checks.number(self.health_timeout, "health_timeout", 0.1, MAX_HEALTH_TIMEOUT_S)
        checks.whole(self.events_limit, "events_limit", 0, MAX_EVENTS)
        if self.dest and self.output_format != PROMETHEUS:
            raise ValidationError("dest", "is the Prometheus textfile: it needs format=prometheus")
        if self.dest:
            textfile.check_destination(self.dest)


class ClusterInfoService:
    def __init__(self, store, proxmox_factory: Optional[Callable] = None):
        self.store = store
        self.proxmox_factory = proxmox_factory

    def run(self, request):
        request.check()
        selection = select(self.store, request.query)
        changed = False
        health = {}
        if request.health:
            health = cluster_health.check(self.store, selection, request.failure_threshold, request.health_timeout)
            if request.update_registry:
                changed = bool(health)
                if not request.check_mode and health:
                    for cluster in selection.clusters:
                        cluster_health.write_back(self.store, cluster, health[cluster.id])
                    selection = select(self.store, request.query)
        result_views = self._views(selection, request)
        for view in result_views:
            if view["id"] in health:
                view["health"] = health[view["id"]]
                observed = health[view["id"]]["observed"]
                view.update((key, observed[key]) for key in LIVE_FIELDS if observed.get(key) is not None)
        if request.drift:
            self._add_drift(selection, result_views)
        result = {"clusters": result_views, "total": selection.total}
        if request.output_format == PROMETHEUS:
            result["metrics"] = exposition(result_views)
            if request.dest:
                result["dest"] = request.dest
                if request.check_mode:
                    changed = changed or not textfile.unchanged(request.dest, result["metrics"])
                else:
                    changed = textfile.write_atomically(request.dest, result["metrics"]) or changed
        result["changed"] = changed
        return result

    def _views(self, selection, request):
        if not request.query.one:
            return [views.summary(cluster, selection) for cluster in selection.clusters]
        return [views.full(cluster, selection, self.store.list_events(cluster_id=cluster.id, limit=request.events_limit),
                           self.store.list_backups(cluster_id=cluster.id, limit=request.events_limit))
                for cluster in selection.clusters]

    def _add_drift(self, selection, result_views):
        if not any(cluster.type == kinds.K8S_VM for cluster in selection.clusters):
            return
        if self.proxmox_factory is None:
            raise ValidationError("drift", "needs the Proxmox connection options (api_url and credentials)")
        reports = drift_reports(self.proxmox_factory(), selection.clusters, selection.nodes)
        for view in result_views:
            if view["id"] in reports:
                view["drift"] = reports[view["id"]]
