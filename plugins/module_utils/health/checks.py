# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live checks of one cluster. Each returns a status.Check; what they see goes into ``observed``.

- api-server: ``/readyz?verbose`` and a namespace list (the seed's connectivity test).
- control-plane: kube-apiserver, kube-controller-manager, kube-scheduler, each judged by its
  declared health endpoint, else its Ready kube-system pod (label ``component``), else its
  leader-election lease; components nothing can be learnt about do not count.
- nodes: Nodes with condition Ready=True among all Nodes.
- etcd: each member's own ``/health``; all healthy is healthy, a quorum degraded, less unhealthy.
"""

from __future__ import annotations

import datetime
import json

from ansible_collections.gpve.cluster.plugins.module_utils.health import http_probe, status
from ansible_collections.gpve.cluster.plugins.module_utils.health.targets import COMPONENTS
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeError

CONTROL_PLANE_SELECTOR = "component in (kube-apiserver,kube-controller-manager,kube-scheduler)"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/"
POD_PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")


def api_server(client, observed):
    timer = status.Timer("api-server")
    try:
        ready_status, ready_body = client.get("/readyz", {"verbose": "true"}, what="readiness")
        observed["version"] = client.version().get("gitVersion")
        client.get_json("/api/v1/namespaces", {"limit": 1}, what="list namespaces")
    except KubeError as exc:
        observed["reachable"] = False
        return timer.done(status.UNHEALTHY, str(exc))
    observed["reachable"] = True
    if ready_status != 200:
        failing = [line.strip() for line in ready_body.splitlines() if line.strip().startswith("[-]")]
        return timer.done(status.DEGRADED, f"/readyz answered {ready_status}: {'; '.join(failing) or ready_body[:200]}")
    return timer.done(status.HEALTHY, "/readyz ok; namespaces listed")


def _pod_ready(pod):
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _from_pods(client):
    """component -> (running, how) from kube-system pods labelled component=<name>; {} when there are none."""
    pods = client.list_items("/api/v1/namespaces/kube-system/pods", {"labelSelector": CONTROL_PLANE_SELECTOR},
                             what="list control-plane pods")
    found = {}
    for pod in pods:
        name = ((pod.get("metadata") or {}).get("labels") or {}).get("component")
        running, _how = found.get(name, (False, ""))
        found[name] = (running or _pod_ready(pod), "kube-system pod")
    return found


def _lease_fresh(lease, now):
    spec = lease.get("spec") or {}
    renewed = spec.get("renewTime")
    if not renewed:
        return False
    renewed_at = datetime.datetime.fromisoformat(renewed.replace("Z", "+00:00"))
    return renewed_at + datetime.timedelta(seconds=int(spec.get("leaseDurationSeconds") or 15)) >= now


def _from_lease(client, component):
    http_status, body = client.get(LEASES + component, what=f"{component} lease")
    if http_status != 200:
        return None
    return _lease_fresh(json.loads(body), datetime.datetime.now(datetime.timezone.utc)), "leader lease"


def _component_states(client, targets, tls, api_reachable):
    states, pods = {}, None
    for component in COMPONENTS:
        if component in targets.components:
            healthy, detail = http_probe.probe(targets.components[component], tls)
            states[component] = (healthy, f"health endpoint: {detail}")
        elif component == "kube-apiserver":
            states[component] = (api_reachable, "API server" + (" answers" if api_reachable else " unreachable"))
        elif api_reachable:
            try:
                pods = _from_pods(client) if pods is None else pods
                states[component] = pods.get(component) or _from_lease(client, component)
            except KubeError:
                states[component] = None
    return states


def control_plane(client, targets, tls, observed):
    timer = status.Timer("control-plane")
    states = _component_states(client, targets, tls, observed.get("reachable", False))
    known = {name: state for name, state in states.items() if state is not None}
    running = [name for name, (ok, _how) in known.items() if ok]
    observed["components"] = {name: ("running" if state[0] else "down") if state else "unknown" for name, state in states.items()}
    verdict, _summary = status.by_share(len(running), len(known), "control-plane components")
    details = [f"{name} {'running' if ok else 'down'} ({how})" for name, (ok, how) in sorted(known.items())]
    unknown = sorted(set(COMPONENTS) - set(known))
    if unknown:
        details.append("no evidence for " + ", ".join(unknown))
    return timer.done(verdict, "; ".join(details))


def nodes(client, observed):
    timer = status.Timer("nodes")
    try:
        items = client.list_items("/api/v1/nodes", what="list nodes")
    except KubeError as exc:
        return timer.done(status.UNHEALTHY if observed.get("reachable") else status.UNKNOWN, str(exc))
    ready = sum(1 for node in items if node_ready(node))
    observed["node_count"], observed["ready_nodes"] = len(items), ready
    verdict, message = status.by_share(ready, len(items), "nodes")
    return timer.done(verdict, message.replace("healthy", "Ready"))


def node_ready(node):
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def etcd(targets, tls, have_client_credential):
    timer = status.Timer("etcd")
    if targets.etcd_derived and not have_client_credential:
        return timer.done(status.UNKNOWN, "no etcd client credential in the registry (etcd-client) and no declared "
                                          "monitoring_config.etcd_endpoints: members not probed")
    if not targets.etcd_endpoints:
        return timer.done(status.UNKNOWN, "no etcd members known")
    results = [(endpoint,) + http_probe.probe(endpoint, tls) for endpoint in targets.etcd_endpoints]
    healthy = sum(1 for _endpoint, ok, _detail in results if ok)
    total, quorum = len(results), len(results) // 2 + 1
    failing = "; ".join(f"{endpoint}: {detail}" for endpoint, ok, detail in results if not ok)
    if healthy == total:
        return timer.done(status.HEALTHY, f"{healthy}/{total} etcd members healthy")
    verdict = status.DEGRADED if healthy >= quorum else status.UNHEALTHY
    state = "quorum kept" if healthy >= quorum else "quorum lost"
    return timer.done(verdict, f"{healthy}/{total} etcd members healthy, {state} (quorum {quorum}); {failing}")


def pods_by_phase(client, observed):
    """Count every pod by phase into observed (no check of its own: a cluster may run no pods)."""
    try:
        pods = client.list_items("/api/v1/pods", what="list pods")
    except KubeError:
        return
    counts = dict.fromkeys(POD_PHASES, 0)
    for pod in pods:
        phase = (pod.get("status") or {}).get("phase") or "Unknown"
        counts[phase if phase in counts else "Unknown"] += 1
    observed["pods_by_phase"], observed["pod_count"] = counts, len(pods)
