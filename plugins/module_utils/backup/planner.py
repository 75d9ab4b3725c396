# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a restore will create, in which order, where.

Order: Velero's restore priorities, CustomResourceDefinitions, Namespaces, StorageClasses,
PersistentVolumes, PersistentVolumeClaims, Secrets, ConfigMaps, ServiceAccounts,
LimitRanges, Pods, ReplicaSets, then every other resource alphabetically by its
qualified name. Filters apply again (a restore may take part of a backup), on the
namespaces as they were backed up. ``namespace_mapping`` moves objects (and the
references that name a namespace: a volume's claimRef, ServiceAccount subjects of
bindings) to other namespaces. A claim keeps its volumeName only when that volume is
restored too; otherwise it binds afresh.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import List

from ansible_collections.gpve.cluster.plugins.module_utils.backup import secrets
from ansible_collections.gpve.cluster.plugins.module_utils.backup.discovery import ResourceType

PRIORITIES = (
    "customresourcedefinitions.apiextensions.k8s.io", "namespaces", "storageclasses.storage.k8s.io",
    "persistentvolumes", "persistentvolumeclaims", "secrets", "configmaps", "serviceaccounts", "limitranges",
    "pods", "replicasets.apps",
)
RESTORED_LABEL = "gpve.io/restored-from-backup"
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")


@dataclass
class Step:
    """Every object of one resource type, ready to be created, in the order of the plan."""

    rtype: ResourceType
    objects: list


@dataclass
class RestorePlan:
    steps: List[Step]
    namespaces: List[str] = field(default_factory=list)

    def counts(self):
        return {step.rtype.qualified: len(step.objects) for step in self.steps}

    @property
    def total(self):
        return sum(len(step.objects) for step in self.steps)


def priority(qualified):
    """Sort key: listed priorities first, in their order, then the rest alphabetically."""
    if qualified in PRIORITIES:
        return (0, PRIORITIES.index(qualified), "")
    return (1, 0, qualified)


def plan_restore(archive, filters, keyring=None, namespace_mapping=None, backup_id=None):
    """A RestorePlan for the resources of a verified archive."""
    mapping = dict(namespace_mapping or {})
    backup_id = backup_id or archive.manifest.get("backup_id", "")
    by_type = {}
    for entry in archive.manifest.get("resources") or []:
        rtype = ResourceType.from_dict(entry)
        namespace = entry.get("namespace")
        if not filters.resource_included(rtype) and rtype.qualified != "namespaces":
            continue
        if namespace and not filters.namespace_included(namespace):
            continue
        objects = _load(archive, entry, keyring, backup_id)
        if rtype.qualified == "namespaces":
            if not filters.resource_included(rtype):
                continue
            objects = [obj for obj in objects if filters.namespace_included(obj["metadata"]["name"])]
        by_type.setdefault(rtype, []).extend(objects)
    restored_volumes = {obj["metadata"]["name"] for rtype, objects in by_type.items()
                        if rtype.qualified == "persistentvolumes" for obj in objects}
    steps = []
    for rtype in sorted(by_type, key=lambda rtype: priority(rtype.qualified)):
        objects = [_prepared(obj, mapping, restored_volumes, backup_id) for obj in by_type[rtype]]
        if objects:
            steps.append(Step(rtype, objects))
    namespaces = sorted({obj["metadata"]["namespace"] for step in steps if step.rtype.namespaced
                         for obj in step.objects})
    return RestorePlan(steps=steps, namespaces=namespaces)


def _load(archive, entry, keyring, backup_id):
    data = archive.members[entry["member"]]
    if entry.get("sealed"):
        data = secrets.unseal(keyring, backup_id, entry["member"], data)
    return json.loads(data)


def _prepared(obj, mapping, restored_volumes, backup_id):
    obj = copy.deepcopy(obj)
    metadata = obj["metadata"]
    if metadata.get("namespace"):
        metadata["namespace"] = mapping.get(metadata["namespace"], metadata["namespace"])
    kind = obj.get("kind")
    if kind == "Namespace":
        metadata["name"] = mapping.get(metadata["name"], metadata["name"])
    elif kind == "PersistentVolume":
        claim_ref = (obj.get("spec") or {}).get("claimRef")
        if claim_ref and claim_ref.get("namespace"):
            claim_ref["namespace"] = mapping.get(claim_ref["namespace"], claim_ref["namespace"])
    elif kind == "PersistentVolumeClaim":
        spec = obj.get("spec") or {}
        if spec.get("volumeName") and spec["volumeName"] not in restored_volumes:
            spec.pop("volumeName")
    elif kind in BINDING_KINDS:
        for subject in obj.get("subjects") or []:
            if subject.get("kind") == "ServiceAccount" and subject.get("namespace"):
                subject["namespace"] = mapping.get(subject["namespace"], subject["namespace"])
    if backup_id:
        metadata.setdefault("labels", {})[RESTORED_LABEL] = backup_id
    return obj
