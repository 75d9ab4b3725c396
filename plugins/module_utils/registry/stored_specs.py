# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module's spec as the registry stores it, and back: one rule per cluster type, beside schema.SPEC_TABLES.

The rule is the same for every type: the fields the cluster row holds (name, labels and, for
a vCluster, annotations) are not stored again in the spec; keys are renamed to the spec
table's columns (schema.SPEC_TABLES); a K8s-on-VM distribution (type, version, config) is
split into the ``distribution`` column and two ``extra`` keys. Reading back puts the row's
fields in again. A spec stored before this rule (K8s-on-VM specs kept name and labels in
``extra``) reads back the same: the row's values win.
"""

from __future__ import annotations

import copy

from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds

# cluster type -> the spec fields the cluster row holds
ROW_FIELDS = {
    kinds.VCLUSTER: ("name", "labels", "annotations"),
    kinds.K8S_VM: ("name", "labels"),
    kinds.EXTERNAL: (),
}
# cluster type -> {spec key: stored key}
RENAMED = {
    kinds.VCLUSTER: {"sync": "sync_config"},
    kinds.K8S_VM: {"network": "networking"},
    kinds.EXTERNAL: {},
}


def to_stored(cluster_type, spec):
    """The spec as create_cluster/update_cluster take it."""
    renamed = RENAMED[cluster_type]
    doc = {renamed.get(key, key): copy.deepcopy(value) for key, value in spec.items() if key not in ROW_FIELDS[cluster_type]}
    if cluster_type == kinds.K8S_VM:
        distribution = doc.pop("distribution")
        doc.update(distribution=distribution["type"], distribution_release=distribution["version"],
                   distribution_config=distribution["config"])
    return doc


def from_stored(cluster_type, stored):
    """The stored spec in the module's form, without the row's fields."""
    back = {value: key for key, value in RENAMED[cluster_type].items()}
    spec = {back.get(key, key): copy.deepcopy(value) for key, value in (stored or {}).items()
            if key not in ROW_FIELDS[cluster_type]}
    if cluster_type == kinds.K8S_VM:
        spec["distribution"] = {"type": spec.pop("distribution", None), "version": spec.pop("distribution_release", None),
                                "config": spec.pop("distribution_config", None) or {}}
        spec.setdefault("network", None)
    return spec


def spec_of(cluster):
    """A registered cluster's spec in the module's form, the row's fields included."""
    spec = from_stored(cluster.type, cluster.spec)
    row = {"name": cluster.name, "labels": dict(cluster.labels or {}), "annotations": dict(cluster.annotations or {})}
    spec.update({field: row[field] for field in ROW_FIELDS[cluster.type]})
    return spec
