# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every check of one cluster, and many clusters at once.

Checks talk to the clusters only; the registry is read before and written after, on the
caller's thread (a registry store is for one thread). Clusters are checked on a bounded
thread pool, each with its own client and timeout.
"""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional

from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig as kubeconfig_docs
from ansible_collections.gpve.cluster.plugins.module_utils.health import checks, http_probe, status
from ansible_collections.gpve.cluster.plugins.module_utils.health.targets import targets_for
from ansible_collections.gpve.cluster.plugins.module_utils.kube.api import ClusterApi
from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeError

DEFAULT_WORKERS = 8


@dataclasses.dataclass
class Job:
    """One cluster to check: its registry record and nodes, and the credentials read for it."""

    cluster: Any
    nodes: list
    kubeconfig: Optional[str]
    etcd_client: Optional[str] = None


@dataclasses.dataclass
class Outcome:
    cluster_id: str
    checks: List[status.Check]
    observed: Dict[str, Any]


def _tls(config, validate):
    creds = kubeconfig_docs.credentials(config)
    return http_probe.TlsMaterial(creds.ca_pem, creds.client_cert_pem, creds.client_key_pem, validate=validate)


def _etcd_tls(etcd_client, fallback):
    if not etcd_client:
        return http_probe.TlsMaterial(fallback.ca_pem, validate=fallback.validate)
    document = json.loads(etcd_client)
    return http_probe.TlsMaterial(document.get("ca"), document.get("cert"), document.get("key"), validate=fallback.validate)


def check_cluster(job, timeout, want_pods=True):
    """Outcome of every check of one cluster; never raises for what the cluster answers."""
    targets = targets_for(job.cluster, job.nodes)
    observed = {}
    if not job.kubeconfig:
        message = "no kubeconfig credential in the registry"
        return Outcome(job.cluster.id, [status.Timer("api-server").done(status.UNKNOWN, message)], observed)
    try:
        config = kubeconfig_docs.load_kubeconfig(job.kubeconfig)
        tls = _tls(config, targets.validate_certs)
        client = ClusterApi(connect(kubeconfig=config), timeout=timeout)
    except (KubeError, kubeconfig_docs.KubeconfigError) as exc:
        observed["reachable"] = False
        return Outcome(job.cluster.id, [status.Timer("api-server").done(status.UNHEALTHY, str(exc))], observed)
    with client:
        results = [checks.api_server(client, observed)]
        results.append(checks.control_plane(client, targets, tls, observed))
        results.append(checks.nodes(client, observed))
        if targets.check_etcd:
            results.append(checks.etcd(targets, _etcd_tls(job.etcd_client, tls), bool(job.etcd_client)))
        if want_pods and observed.get("reachable"):
            checks.pods_by_phase(client, observed)
    return Outcome(job.cluster.id, results, observed)


def check_many(jobs, timeout, workers=DEFAULT_WORKERS, want_pods=True):
    """Outcomes in the order of jobs."""
    if not jobs:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        return list(pool.map(lambda job: check_cluster(job, timeout, want_pods), jobs))
