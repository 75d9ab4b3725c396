# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The names and labels of a vCluster's objects on the host cluster, after vcluster's conventions."""

from __future__ import annotations

MANAGED_BY = "gpve"
NAME_LABEL = "vcluster.gpve.io/name"
CREATED_BY_LABEL = "gpve.io/created-by"
CLUSTER_ID_ANNOTATION = "gpve.io/cluster-id"
PAUSED_REPLICAS_ANNOTATION = "gpve.io/paused-replicas"
PAUSED_AT_ANNOTATION = "gpve.io/paused-at"
# vcluster marks the pods it syncs to the host with this label; suspend deletes them.
SYNCED_POD_LABEL = "vcluster.loft.sh/managed-by"


def statefulset(name):
    return name


def client_service(name):
    return name


def headless_service(name):
    return f"{name}-headless"


def service_account(name):
    return f"vc-{name}"


def workload_service_account(name):
    return f"vc-workload-{name}"


def role(name):
    return f"vc-{name}"


def certs_secret(name):
    return f"{name}-certs"


def kubeconfig_secret(name):
    return f"vc-{name}"


def config_secret(name):
    return f"vc-config-{name}"


def coredns_config_map(name):
    """CoreDNS's manifests for the syncer (upstream's chart names it so)."""
    return f"vc-coredns-{name}"


def cluster_role(name, namespace):
    """Cluster-scoped, so it carries the namespace too (vcluster's convention)."""
    return f"vc-{name}-v-{namespace}"


def ingress(name):
    return name


def resource_quota(name):
    return f"{name}-quota"


def limit_range(name):
    return f"{name}-limits"


def network_policy(name):
    return f"{name}-isolation"


def context(name):
    """The kubeconfig context (and cluster) name users get."""
    return f"gpve_{name}"


def selector_labels(name):
    """The labels that select the control-plane pods (vcluster's app/release plus gpve's name label)."""
    return {"app": "vcluster", "release": name, NAME_LABEL: name}


def common_labels(name, extra=None):
    labels = dict(extra or {})
    labels.update(selector_labels(name))
    labels["app.kubernetes.io/managed-by"] = MANAGED_BY
    return labels
