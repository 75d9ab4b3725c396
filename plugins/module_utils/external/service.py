# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Import, refresh and disconnect external clusters.

Import: the cluster must answer first (connectivity, then discovery); only then is it
registered (Pending), moved to Connecting, its kubeconfig stored encrypted, and moved to
Running with what was discovered. A cluster that does not answer leaves no row. A rerun
with the same input changes nothing; new credentials are checked before they replace the
stored ones; ``refresh`` rediscovers (a cluster that stopped answering goes to Failed with
the reason). ``state: absent`` forgets the credentials and soft-deletes the cluster
(Deleting, Deleted): events and the audit log stay.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Dict, Optional

from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig as docs
from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils import checks
from ansible_collections.gpve.cluster.plugins.module_utils.diffs import diff, secret_digest
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.external import access, discovery
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import NotFound

MAX_TIMEOUT_S = 300
MAX_MONITORING_BYTES = 64 * 1024


@dataclasses.dataclass
class Request:
    name: str
    state: str = "present"
    labels: Optional[Dict[str, str]] = None
    kubeconfig: Optional[str] = None
    context: Optional[str] = None
    connection: Optional[Dict[str, Any]] = None
    monitoring: Optional[Dict[str, Any]] = None
    provider: Optional[str] = None
    refresh: bool = False
    timeout: float = 10.0
    check_mode: bool = False


def cluster_view(cluster, namespaces=None):
    status = cluster.status
    resources = status.resources or {}
    return {"id": cluster.id, "name": cluster.name, "type": cluster.type, "phase": status.phase, "message": status.message,
            "version": status.version, "endpoint": status.endpoint, "node_count": status.node_count,
            "ready_nodes": status.ready_nodes, "pod_count": status.pod_count,
            "namespaces": namespaces if namespaces is not None else resources.get("namespaces"),
            "labels": dict(cluster.labels)}


def _client_cert_expiry(config):
    pem = docs.credentials(config).client_cert_pem
    if not pem:
        return None
    from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs  # cryptography only when needed
    return certs.not_after(certs.load_cert(pem, "client-certificate-data"))


def _record_view(spec, labels, kubeconfig_text, view):
    """An external cluster's registry record as diff mode shows it."""
    return {"endpoint": spec.get("endpoint"), "connection": spec.get("connection_config"),
            "monitoring": spec.get("monitoring_config"), "labels": dict(labels or {}),
            "kubeconfig": secret_digest(kubeconfig_text), "phase": view.get("phase"), "version": view.get("version")}


def validate(request):
    """The options of a present run, checked before anything is probed or written."""
    checks.cluster_name(request.name, "name")
    checks.labels(request.labels, "labels")
    checks.number(request.timeout, "timeout", 0.1, MAX_TIMEOUT_S)
    if request.provider is not None and (not isinstance(request.provider, str) or not checks.DNS1123_LABEL.match(request.provider)):
        raise ValidationError("provider", f"{checks.shown(request.provider)} is not a provider name (a DNS-1123 label such "
                                          "as eks or on-prem)")
    if request.connection:
        checks.url(request.connection.get("endpoint"), "connection.endpoint", schemes=("https", "http"))
    if request.monitoring is not None:
        checks.bounded(request.monitoring, "monitoring", MAX_MONITORING_BYTES)
    if request.kubeconfig is not None:
        checks.bounded(request.kubeconfig, "kubeconfig")


class ExternalClusterService:
    def __init__(self, store):
        self.store = store
        self.changed = False
        self.desired = None

    def run(self, request):
        """The result, with diff: the registry record before and after (the kubeconfig as a digest).

        A present run's options are checked (and its kubeconfig parsed) before the registry is even read.
        """
        desired = None if request.state == "absent" else self._desired(request)
        existing = self.store.find_cluster(request.name, type=kinds.EXTERNAL)
        before = self._record(existing) if existing is not None else {}
        if request.state == "absent":
            result = self._absent(request)
            after = {}
        else:
            result = self._present(request, desired)
            after = self._expected(request, existing, result["cluster"]) if result["changed"] else before
        result["diff"] = diff(before, after)
        return result

    def _record(self, cluster):
        return _record_view(cluster.spec, cluster.labels, self._stored_text(cluster.id), cluster_view(cluster))

    def _expected(self, request, existing, view):
        """The record as this run leaves it (as it would leave it, in check mode)."""
        spec, text = self.desired
        base = dict(existing.spec) if existing is not None else {}
        labels = request.labels if request.labels is not None else (existing.labels if existing is not None else {})
        return _record_view(dict(base, **spec), labels, text, view)

    # present ----------------------------------------------------------------------------

    def _desired(self, request):
        validate(request)
        if bool(request.kubeconfig) == bool(request.connection):
            raise ValidationError("kubeconfig", "give either kubeconfig (with an optional context) or connection")
        if request.kubeconfig:
            config, auth_type = access.from_kubeconfig(request.kubeconfig, request.context)
        else:
            config, auth_type = access.from_connection(request.name, request.connection)
        checks.bounded(config, "kubeconfig" if request.kubeconfig else "connection")
        spec = {"endpoint": access.server_of(config),
                "connection_config": {"auth_type": auth_type, "context": request.context if request.kubeconfig else None}}
        if request.monitoring:
            spec["monitoring_config"] = request.monitoring
        return config, spec

    def _present(self, request, desired=None):
        config, spec = desired or self._desired(request)
        text = docs.dump_kubeconfig(config)
        self.desired = (spec, text)
        existing = self.store.find_cluster(request.name, type=kinds.EXTERNAL)
        if existing is None:
            return self._import(request, config, text, spec)
        return self._converge(request, existing, config, text, spec)

    def _probe(self, config, timeout):
        with discovery.connect(config, timeout) as client:
            return discovery.discover(client)

    def _import(self, request, config, text, spec):
        found = self._probe(config, request.timeout)
        self.changed = True
        if request.check_mode:
            preview = {"id": None, "name": request.name, "type": kinds.EXTERNAL, "phase": lifecycle.RUNNING,
                       "endpoint": spec["endpoint"], "labels": request.labels or {}}
            preview.update(found.as_dict())
            return {"changed": True, "cluster": preview}
        self.store.keyring(for_encrypt=True)  # fail before the first write when no key can encrypt
        cluster = self.store.create_cluster(request.name, kinds.EXTERNAL, spec=spec, labels=request.labels,
                                            provider=request.provider or kinds.EXTERNAL, message="registered by gpve_external_cluster")
        try:
            lifecycle.transition(self.store, cluster.id, lifecycle.CONNECTING, "ImportStarted", f"connecting to {spec['endpoint']}")
            self.store.put_credential(cluster.id, kinds.KUBECONFIG, text, expires_at=_client_cert_expiry(config))
            self._running(cluster.id, found, spec["endpoint"], "Imported", "connected; discovery complete")
        except Exception:
            self._abandon(cluster.id)
            raise
        return {"changed": True, "cluster": cluster_view(self.store.get_cluster(cluster.id), found.namespaces)}

    def _abandon(self, cluster_id):
        """Undo a half-done import: no credentials, the row soft-deleted (its events and audit stay)."""
        self.store.delete_credential(cluster_id, kinds.KUBECONFIG)
        for phase in (lifecycle.FAILED, lifecycle.DELETING, lifecycle.DELETED):
            lifecycle.transition(self.store, cluster_id, phase, "ImportAbandoned", "import failed after registration")

    def _running(self, cluster_id, found, endpoint, trigger, message):
        fields = dict(endpoint=endpoint, version=found.version, node_count=found.node_count, ready_nodes=found.ready_nodes,
                      pod_count=found.pod_count, resources={"namespaces": found.namespaces},
                      last_heartbeat=datetime.datetime.now(datetime.timezone.utc))
        status, _event = lifecycle.transition(self.store, cluster_id, lifecycle.RUNNING, trigger, message, **fields)
        if status.phase == lifecycle.RUNNING and _event is None:
            self.store.update_status(cluster_id, **fields)
            self.store.add_event(cluster_id, "Normal", "Rediscovered", message,
                                 {"version": found.version, "nodes": found.node_count, "pods": found.pod_count})

    def _stored_text(self, cluster_id):
        try:
            return self.store.get_credential(cluster_id, kinds.KUBECONFIG).text
        except NotFound:
            return None

    def _converge(self, request, cluster, config, text, spec):
        new_credentials = self._stored_text(cluster.id) != text
        labels = request.labels if request.labels is not None else cluster.labels
        spec_changed = {key: value for key, value in spec.items() if cluster.spec.get(key) != value}
        needs_probe = new_credentials or request.refresh or cluster.status.phase != lifecycle.RUNNING
        if not (needs_probe or spec_changed or labels != cluster.labels):
            return {"changed": False, "cluster": cluster_view(cluster)}
        found = None
        if needs_probe:
            found = self._probe_existing(request, cluster, config, new_credentials)
        self.changed = True
        if request.check_mode:
            return {"changed": True, "cluster": cluster_view(cluster, found.namespaces if found else None)}
        if spec_changed or labels != cluster.labels:
            cluster = self.store.update_cluster(cluster.id, cluster.resource_version, spec=dict(cluster.spec, **spec),
                                                labels=labels)
        if new_credentials:
            self.store.put_credential(cluster.id, kinds.KUBECONFIG, text, expires_at=_client_cert_expiry(config))
        if found is not None:
            self._reconnected(cluster, found, spec["endpoint"], new_credentials)
        return {"changed": True, "cluster": cluster_view(self.store.get_cluster(cluster.id), found.namespaces if found else None)}

    def _probe_existing(self, request, cluster, config, new_credentials):
        try:
            return self._probe(config, request.timeout)
        except discovery.ConnectionFailed as exc:
            if not new_credentials and not request.check_mode:
                # The stored credentials stopped working: the cluster is Failed, with the reason.
                lifecycle.transition(self.store, cluster.id, lifecycle.FAILED, exc.reason, str(exc))
            raise

    def _reconnected(self, cluster, found, endpoint, new_credentials):
        phase = cluster.status.phase
        if phase == lifecycle.RUNNING and not new_credentials:
            self._running(cluster.id, found, endpoint, "Rediscovered", "rediscovered")
            return
        if phase != lifecycle.CONNECTING:
            lifecycle.transition(self.store, cluster.id, lifecycle.CONNECTING, "Reconnecting", f"connecting to {endpoint}")
        self._running(cluster.id, found, endpoint, "Connected", "connected; discovery complete")

    # absent -----------------------------------------------------------------------------

    def _absent(self, request):
        cluster = self.store.find_cluster(request.name, type=kinds.EXTERNAL)
        if cluster is None:
            return {"changed": False, "cluster": None}
        self.changed = True
        if request.check_mode:
            return {"changed": True, "cluster": dict(cluster_view(cluster), phase=lifecycle.DELETED)}
        for info in self.store.list_credentials(cluster_id=cluster.id):
            self.store.delete_credential(cluster.id, info.type)
        if not lifecycle.allowed(cluster.status.phase, lifecycle.DELETING):
            lifecycle.transition(self.store, cluster.id, lifecycle.FAILED, "Disconnecting", "disconnect requested")
        lifecycle.transition(self.store, cluster.id, lifecycle.DELETING, "Disconnecting", "credentials forgotten")
        status, _event = lifecycle.transition(self.store, cluster.id, lifecycle.DELETED, "Disconnected",
                                              "disconnected; events and audit log kept")
        view = cluster_view(cluster)
        view["phase"] = status.phase
        return {"changed": True, "cluster": view}
