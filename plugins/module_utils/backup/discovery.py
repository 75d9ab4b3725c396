# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which resources an API server serves: the core group and every group's preferred version.

A resource is worth backing up when it can be listed and created again (subresources
such as ``pods/log`` and review-only kinds drop out). An aggregated API that does not
answer is reported, not fatal: the rest of the cluster still gets backed up.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ansible_collections.gpve.cluster.plugins.module_utils.backup.rest import resource_path
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeError

# "extensions" only re-serves kinds that moved to apps, networking.k8s.io and policy.
LEGACY_GROUPS = ("extensions",)
PARALLEL_REQUESTS = 8


@dataclass(frozen=True)
class ResourceType:
    """One served resource: where it lives and what can be done with it."""

    group: str
    version: str
    resource: str
    kind: str
    namespaced: bool
    verbs: tuple = ()

    @property
    def qualified(self):
        """How filters and reports name it, as Velero does: ``configmaps``, ``deployments.apps``."""
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace=None, name=None):
        return resource_path(self.group, self.version, self.resource, namespace if self.namespaced else None, name)

    def as_dict(self):
        return {"group": self.group, "version": self.version, "resource": self.resource, "kind": self.kind,
                "namespaced": self.namespaced}

    @classmethod
    def from_dict(cls, data):
        return cls(data["group"], data["version"], data["resource"], data["kind"], bool(data["namespaced"]))


@dataclass
class Discovery:
    types: list
    unavailable: list

    def backupable(self):
        """Types that can be listed and created, without legacy duplicates, ordered by qualified name."""
        candidates = [rtype for rtype in self.types if {"list", "create"} <= set(rtype.verbs)]
        modern = {(rtype.resource, rtype.kind) for rtype in candidates if rtype.group not in LEGACY_GROUPS}
        kept = [rtype for rtype in candidates
                if rtype.group not in LEGACY_GROUPS or (rtype.resource, rtype.kind) not in modern]
        return sorted(kept, key=lambda rtype: rtype.qualified)

    def find(self, group, resource):
        for rtype in self.types:
            if rtype.group == group and rtype.resource == resource:
                return rtype
        return None


def discover(rest):
    """Discovery of the server behind rest (a backup.rest.Rest)."""
    group_versions = [("", version) for version in (rest.call("GET", "/api", "discovery /api").get("versions") or [])]
    for group in rest.call("GET", "/apis", "discovery /apis").get("groups") or []:
        preferred = (group.get("preferredVersion") or {}).get("version")
        if preferred:
            group_versions.append((group["name"], preferred))
    with ThreadPoolExecutor(max_workers=PARALLEL_REQUESTS) as pool:
        answers = list(pool.map(lambda gv: _group_version(rest, *gv), group_versions))
    types, unavailable = [], []
    for (group, version), (found, error) in zip(group_versions, answers):
        if error is not None:
            unavailable.append({"group_version": f"{group}/{version}" if group else version, "error": error})
        types.extend(found)
    return Discovery(types=types, unavailable=unavailable)


def _group_version(rest, group, version):
    path = f"/apis/{group}/{version}" if group else f"/api/{version}"
    try:
        listing = rest.call("GET", path, f"discovery {path}")
    except KubeError as error:
        return [], str(error)
    found = [ResourceType(group, version, entry["name"], entry.get("kind", ""), bool(entry.get("namespaced")),
                          tuple(entry.get("verbs") or ()))
             for entry in listing.get("resources") or [] if "/" not in entry["name"]]
    return found, None
