# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A vCluster's record in the registry: registration, its desired state, its kubeconfig and CA credentials."""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds, stored_specs

PROVIDER = "host-cluster"


def register(store, spec):
    return store.create_cluster(spec["name"], kinds.VCLUSTER, spec=stored_specs.to_stored(kinds.VCLUSTER, spec),
                                labels=spec["labels"], annotations=spec["annotations"], provider=PROVIDER, message="vCluster registered")


def record_spec(store, cluster, spec):
    """Store spec as the desired state if it differs; the (possibly updated) cluster."""
    if stored_specs.spec_of(cluster) == spec:
        return cluster
    return store.update_cluster(cluster.id, cluster.resource_version, spec=stored_specs.to_stored(kinds.VCLUSTER, spec),
                                labels=spec["labels"], annotations=spec["annotations"])


def stored_credentials(store, cluster_id):
    """Credential type -> decrypted text, for the types a vCluster keeps."""
    present = {info.type for info in store.list_credentials(cluster_id=cluster_id)}
    return {kind: store.get_credential(cluster_id, kind).text for kind in (kinds.KUBECONFIG, kinds.CA)
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
