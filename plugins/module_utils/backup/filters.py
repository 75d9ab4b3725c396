# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which namespaces and resources a backup or a restore covers (Velero's resource filtering).

Namespaces are names or shell-style globs (``team-*``). Resources are named like Velero
names them (``configmaps``, ``deployments.apps``), or by kind (``ConfigMap``,
``Deployment.apps``), case-insensitively; ``*`` is every one. An exclusion always wins.

System namespaces (kube-system, kube-public, kube-node-lease) are left out unless
``include_system_namespaces`` or an include list names them literally. Resources a
cluster rebuilds on its own (events, nodes, endpoint slices, leases...) are left out
unless an include list names them literally.

``include_cluster_resources``: true takes every cluster-scoped resource, false none;
unset (the default) takes all of them when the whole cluster is backed up, and otherwise
only those the namespaced objects need: the CRDs of their custom resources and the
PersistentVolumes bound to their claims. Namespace objects of included namespaces always
come along.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import List, Optional

SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
DERIVED_RESOURCES = (
    "events", "events.events.k8s.io", "nodes", "endpointslices.discovery.k8s.io", "leases.coordination.k8s.io",
    "csinodes.storage.k8s.io", "volumeattachments.storage.k8s.io", "certificatesigningrequests.certificates.k8s.io",
)
EVERYTHING = "*"


def _names(values):
    return [str(value).strip() for value in (values or []) if str(value).strip()]


def resource_names(rtype):
    """Every name a filter may use for the resource type, lower case."""
    kind = rtype.kind.lower()
    names = {rtype.resource.lower(), kind}
    if rtype.group:
        names.update({f"{rtype.resource}.{rtype.group}".lower(), f"{kind}.{rtype.group}".lower()})
    return names


@dataclass
class Filters:
    include_namespaces: List[str] = field(default_factory=list)
    exclude_namespaces: List[str] = field(default_factory=list)
    include_resources: List[str] = field(default_factory=list)
    exclude_resources: List[str] = field(default_factory=list)
    include_cluster_resources: Optional[bool] = None
    include_system_namespaces: bool = False

    def __post_init__(self):
        self.include_namespaces = _names(self.include_namespaces) or [EVERYTHING]
        self.exclude_namespaces = _names(self.exclude_namespaces)
        self.include_resources = [name.lower() for name in _names(self.include_resources)] or [EVERYTHING]
        self.exclude_resources = [name.lower() for name in _names(self.exclude_resources)]

    @property
    def whole_cluster(self):
        """True when no namespace was singled out: every namespace is in."""
        return self.include_namespaces == [EVERYTHING] and not self.exclude_namespaces

    def namespace_included(self, namespace):
        if any(fnmatch.fnmatchcase(namespace, pattern) for pattern in self.exclude_namespaces):
            return False
        if namespace in SYSTEM_NAMESPACES and not self.include_system_namespaces:
            return namespace in self.include_namespaces
        return any(fnmatch.fnmatchcase(namespace, pattern) for pattern in self.include_namespaces)

    def resource_included(self, rtype):
        names = resource_names(rtype)
        if names & set(self.exclude_resources):
            return False
        named = bool(names & set(self.include_resources))
        if rtype.qualified in DERIVED_RESOURCES:
            return named
        return named or EVERYTHING in self.include_resources

    def all_cluster_resources(self):
        """Whether every cluster-scoped resource is in (as opposed to only the related ones, or none)."""
        if self.include_cluster_resources is None:
            return self.whole_cluster
        return self.include_cluster_resources

    def as_dict(self):
        return {"include_namespaces": self.include_namespaces, "exclude_namespaces": self.exclude_namespaces,
                "include_resources": self.include_resources, "exclude_resources": self.exclude_resources,
                "include_cluster_resources": self.include_cluster_resources,
                "include_system_namespaces": self.include_system_namespaces}
