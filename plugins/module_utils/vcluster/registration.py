# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A vCluster's record in the registry: its spec there and back, its kubeconfig credential."""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

CLUSTER_TYPE = "vcluster"
PROVIDER = "host-cluster"
KUBECONFIG_CREDENTIAL = "kubeconfig"
# The cluster CA, certificate and key PEM together: gpve_kubeconfig signs short-lived credentials with it.
CA_CREDENTIAL = "ca"
# The registry keeps name, labels and annotations on the cluster row, the rest in the spec.
ROW_FIELDS = ("name", "labels", "annotations")
RENAMED = {"sync": "sync_config"}


def registry_spec(spec):
    """The spec as the registry stores it (vcluster_specs columns where they exist)."""
    return {RENAMED.get(key, key): value for key, value in spec.items() if key not in ROW_FIELDS}


def spec_from_registry(cluster):
    """The normalised spec of a registered vCluster."""
    back = {value: key for key, value in RENAMED.items()}
    spec = {back.get(key, key): value for key, value in cluster.spec.items()}
    spec.update(name=cluster.name, labels=dict(cluster.labels), annotations=dict(cluster.annotations))
    return spec


def find(store, name):
    """The registered vCluster of that name, or None; a cluster of another type with that name is an error."""
    cluster = store.find_cluster(name)
    if cluster is not None and cluster.type != CLUSTER_TYPE:
        raise ValidationError("name", f"{name!r} is already registered as a {cluster.type} cluster; pick another name")
    return cluster


def register(store, spec):
    return store.create_cluster(spec["name"], CLUSTER_TYPE, spec=registry_spec(spec), labels=spec["labels"],
                                annotations=spec["annotations"], provider=PROVIDER, message="vCluster registered")


def record_spec(store, cluster, spec):
    """Store spec as the desired state if it differs; the (possibly updated) cluster."""
    if spec_from_registry(cluster) == spec:
        return cluster
    return store.update_cluster(cluster.id, cluster.resource_version, spec=registry_spec(spec), labels=spec["labels"],
                                annotations=spec["annotations"])


def stored_credentials(store, cluster_id):
    """Credential type -> decrypted text, for the types a vCluster keeps."""
    present = {info.type for info in store.list_credentials(cluster_id=cluster_id)}
    return {kind: store.get_credential(cluster_id, kind).text for kind in (KUBECONFIG_CREDENTIAL, CA_CREDENTIAL)
            if kind in present}


def store_credentials(store, cluster_id, wanted):
    """Encrypt and keep each credential of wanted (type -> text) unless the same is stored; the types written."""
    current = stored_credentials(store, cluster_id)
    written = []
    for kind, text in wanted.items():
        if current.get(kind) != text:
            store.put_credential(cluster_id, kind, text)
            written.append(kind)
    return written


def delete_credentials(store, cluster_id):
    for kind in stored_credentials(store, cluster_id):
        store.delete_credential(cluster_id, kind)
