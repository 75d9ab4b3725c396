# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The objects of a resources backup: discovery, one paginated list per resource type
across all namespaces, then filters, left-out rebuilt objects, and cleaned copies.

The result is grouped in members, one per (resource type, namespace), which is how the
archive stores them and how a restore reads them back.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import List, Optional

from ansible_collections.gpve.cluster.plugins.module_utils.backup import sanitize
from ansible_collections.gpve.cluster.plugins.module_utils.backup.discovery import ResourceType, discover

PARALLEL_LISTS = 8
CRD = ("apiextensions.k8s.io", "customresourcedefinitions")
NAMESPACES = ("", "namespaces")
PERSISTENT_VOLUMES = ("", "persistentvolumes")
CLAIMS = ("", "persistentvolumeclaims")
SERVICES = ("", "services")


@dataclass
class Member:
    """The objects of one resource type in one namespace (None: cluster-scoped)."""

    rtype: ResourceType
    namespace: Optional[str]
    items: list


@dataclass
class Export:
    members: List[Member]
    left_out: dict = field(default_factory=dict)
    unavailable: list = field(default_factory=list)

    def counts(self):
        """Objects per kind (qualified resource name), for the manifest and check mode."""
        counts = Counter()
        for member in self.members:
            counts[member.rtype.qualified] += len(member.items)
        return dict(sorted(counts.items()))

    @property
    def total(self):
        return sum(len(member.items) for member in self.members)

    def namespaces(self):
        return sorted({member.namespace for member in self.members if member.namespace})


def export_resources(rest, filters):
    """An Export of what filters select on the server behind rest."""
    discovery = discover(rest)
    selected = [rtype for rtype in discovery.backupable()
                if filters.resource_included(rtype) or _key(rtype) == NAMESPACES]
    with ThreadPoolExecutor(max_workers=PARALLEL_LISTS) as pool:
        listed = dict(zip(selected, pool.map(lambda rtype: _list(rest, rtype), selected)))
    selector_services = _services_with_selector(rest, discovery, listed)
    left_out = Counter()
    namespaced, cluster_scoped = [], {}
    for rtype, items in listed.items():
        kept = []
        for item in items:
            if sanitize.rebuilt_reason(item, selector_services):
                left_out[rtype.qualified] += 1
            else:
                kept.append(item)
        if rtype.namespaced:
            namespaced.extend(_by_namespace(rtype, kept, filters))
        else:
            cluster_scoped[rtype] = kept
    members = _cluster_members(cluster_scoped, namespaced, filters) + namespaced
    for member in members:
        member.items = sorted((sanitize.clean(item) for item in member.items), key=_object_name)
    return Export(members=[member for member in members if member.items], left_out=dict(left_out),
                  unavailable=discovery.unavailable)


def _key(rtype):
    return rtype.group, rtype.resource


def _list(rest, rtype):
    _kind, _version, items = rest.list_all(rtype.path(), f"list {rtype.qualified}")
    for item in items:
        # List items of built-in types come without them; the archive keeps them per object.
        item["kind"] = rtype.kind
        item["apiVersion"] = rtype.api_version
    return items


def _services_with_selector(rest, discovery, listed):
    services = next((items for rtype, items in listed.items() if _key(rtype) == SERVICES), None)
    if services is None:
        service_type = discovery.find(*SERVICES)
        services = _list(rest, service_type) if service_type is not None else []
    return frozenset((item["metadata"].get("namespace"), item["metadata"]["name"])
                     for item in services if (item.get("spec") or {}).get("selector"))


def _by_namespace(rtype, items, filters):
    grouped = {}
    for item in items:
        namespace = item["metadata"].get("namespace", "")
        if filters.namespace_included(namespace):
            grouped.setdefault(namespace, []).append(item)
    return [Member(rtype, namespace, grouped[namespace]) for namespace in sorted(grouped)]


def _cluster_members(cluster_scoped, namespaced, filters):
    """Namespaces of the included namespaces, and the cluster-scoped objects the filters call for."""
    members = []
    wanted_namespaces = {member.namespace for member in namespaced}
    everything = filters.all_cluster_resources()
    related = _related_cluster_objects(namespaced)
    for rtype, items in cluster_scoped.items():
        if _key(rtype) == NAMESPACES:
            if filters.resource_included(rtype):
                items = [item for item in items if filters.namespace_included(item["metadata"]["name"])
                         or item["metadata"]["name"] in wanted_namespaces]
                members.append(Member(rtype, None, items))
            continue
        if everything:
            members.append(Member(rtype, None, items))
        elif filters.include_cluster_resources is None and _key(rtype) in related:
            names = related[_key(rtype)]
            members.append(Member(rtype, None, [item for item in items if names(item)]))
    return members


def _related_cluster_objects(namespaced):
    """(group, resource) -> predicate: the CRDs of backed-up custom resources, the volumes of backed-up claims."""
    custom = {(member.rtype.group, member.rtype.resource) for member in namespaced}
    volumes = {item["spec"].get("volumeName") for member in namespaced if _key(member.rtype) == CLAIMS
               for item in member.items if (item.get("spec") or {}).get("volumeName")}

    def crd_needed(crd):
        spec = crd.get("spec") or {}
        return (spec.get("group"), (spec.get("names") or {}).get("plural")) in custom

    return {CRD: crd_needed, PERSISTENT_VOLUMES: lambda volume: volume["metadata"]["name"] in volumes}


def _object_name(obj):
    metadata = obj.get("metadata") or {}
    return metadata.get("namespace") or "", metadata.get("name") or ""
