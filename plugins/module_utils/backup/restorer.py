# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carry out a RestorePlan on a cluster, step by step in the plan's order.

Non-destructive by default (``existing_resource_policy: none``): an object is created, and
one that already exists is skipped, untouched. With ``update`` an existing object that
differs from the backup is brought to it by server-side apply (fields others set stay).
Nothing is ever deleted.

Within a step objects go in parallel; a step starts when the previous one is done.
After the CRD step each restored CRD must be Established and its resource served before
custom objects are created. Namespaces the objects need are created when the backup
does not bring them. A Service whose clusterIP or nodePort is taken in the target is
created again without them. Every object ends in the per-resource report: created,
skipped, updated or failed (with the server's reason).
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ansible_collections.gpve.cluster.plugins.module_utils.backup import sanitize
from ansible_collections.gpve.cluster.plugins.module_utils.backup.rest import CONFLICT, NOT_FOUND, resource_path
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeApiError, KubeError
from ansible_collections.gpve.cluster.plugins.module_utils.kube.wait import wait_for

CREATED = "created"
SKIPPED = "skipped"
UPDATED = "updated"
FAILED = "failed"
ACTIONS = (CREATED, SKIPPED, UPDATED, FAILED)
POLICIES = ("none", "update")
FIELD_MANAGER = "gpve-restore"
PARALLEL = 8
CRD_TIMEOUT = 60
MAX_REPORTED_FAILURES = 100
UNPROCESSABLE = 422
ALLOCATION_WORDS = ("provided IP is already allocated", "provided port is already allocated",
                    "provided IP is not in the valid range", "provided port is not in the valid range")


@dataclass
class Outcome:
    resource: str
    namespace: str
    name: str
    action: str
    message: str = ""


class Report:
    """Per resource: created, skipped, updated, failed; and the failures with their reasons."""

    def __init__(self):
        self.per_resource = defaultdict(lambda: dict.fromkeys(ACTIONS, 0))
        self.failures = []

    def add(self, outcome):
        self.per_resource[outcome.resource][outcome.action] += 1
        if outcome.action == FAILED and len(self.failures) < MAX_REPORTED_FAILURES:
            self.failures.append({"resource": outcome.resource, "namespace": outcome.namespace or None,
                                  "name": outcome.name, "message": outcome.message})

    def totals(self):
        totals = dict.fromkeys(ACTIONS, 0)
        for counts in self.per_resource.values():
            for action, count in counts.items():
                totals[action] += count
        return totals

    def as_dict(self):
        return {"resources": {name: dict(counts) for name, counts in sorted(self.per_resource.items())},
                "totals": self.totals(), "failures": self.failures}


class Restorer:
    def __init__(self, rest, policy="none", check_mode=False, parallel=PARALLEL, crd_timeout=CRD_TIMEOUT):
        if policy not in POLICIES:
            raise ValueError(f"existing_resource_policy must be one of {', '.join(POLICIES)}")
        self.rest = rest
        self.policy = policy
        self.check_mode = check_mode
        self.parallel = parallel
        self.crd_timeout = crd_timeout

    def run(self, plan):
        report = Report()
        namespaces_ready = False
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            for step in plan.steps:
                if step.rtype.namespaced and not namespaces_ready:
                    self._ensure_namespaces(plan.namespaces)
                    namespaces_ready = True
                existing = self._existing(step) if self.check_mode else None
                for outcome in pool.map(lambda obj, step=step, existing=existing: self._restore(step.rtype, obj, existing),
                                        step.objects):
                    report.add(outcome)
                if step.rtype.qualified == "customresourcedefinitions.apiextensions.k8s.io" and not self.check_mode:
                    self._wait_for_crds(step.objects)
        return report

    # One object --------------------------------------------------------------------------

    def _restore(self, rtype, obj, existing=None):
        metadata = obj["metadata"]
        namespace, name = metadata.get("namespace") if rtype.namespaced else None, metadata["name"]
        outcome = Outcome(rtype.qualified, namespace or "", name, FAILED)
        if existing is not None:
            outcome.action = self._predicted(rtype, obj, namespace, name in existing.get(namespace, ()))
            return outcome
        try:
            outcome.action = self._create(rtype, obj, namespace)
        except KubeError as error:
            outcome.message = str(error)
        return outcome

    def _create(self, rtype, obj, namespace):
        what = f"{rtype.qualified} {namespace + '/' if namespace else ''}{obj['metadata']['name']}"
        path = rtype.path(namespace)
        try:
            self.rest.create(path, obj, what)
            return CREATED
        except KubeApiError as error:
            if error.status == CONFLICT and error.reason == "AlreadyExists":
                return self._existing_object(rtype, obj, namespace, what)
            if error.status == UNPROCESSABLE and obj.get("kind") == "Service" and _allocation_taken(error):
                self.rest.create(path, sanitize.strip_allocations(obj), what)
                return CREATED
            raise

    def _predicted(self, rtype, obj, namespace, exists):
        """Check mode: what _create would do, from reads only."""
        if not exists:
            return CREATED
        if self.policy == "none":
            return SKIPPED
        live = self.rest.get(rtype.path(namespace, obj["metadata"]["name"]))
        return SKIPPED if live is not None and _contains(live, obj) else UPDATED

    def _existing_object(self, rtype, obj, namespace, what):
        if self.policy == "none":
            return SKIPPED
        live = self.rest.get(rtype.path(namespace, obj["metadata"]["name"]), what)
        if live is not None and _contains(live, obj):
            return SKIPPED
        self.rest.apply(rtype.path(namespace, obj["metadata"]["name"]), obj, what, FIELD_MANAGER)
        return UPDATED

    # Around the objects ------------------------------------------------------------------

    def _ensure_namespaces(self, namespaces):
        for namespace in namespaces:
            path = resource_path("", "v1", "namespaces", name=namespace)
            if self.check_mode or self.rest.get(path, f"namespace {namespace}") is not None:
                continue
            try:
                namespace_object = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
                self.rest.create(resource_path("", "v1", "namespaces"), namespace_object, f"namespace {namespace}")
            except KubeApiError as error:
                if error.status != CONFLICT:
                    raise

    def _existing(self, step):
        """namespace -> names that exist now, for check mode's prediction (one list per namespace)."""
        rtype = step.rtype
        namespaces = {obj["metadata"].get("namespace") if rtype.namespaced else None for obj in step.objects}
        existing = {}
        for namespace in namespaces:
            try:
                _kind, _version, items = self.rest.list_all(rtype.path(namespace), f"list {rtype.qualified}")
            except KubeApiError as error:
                if error.status != NOT_FOUND:
                    raise
                items = []
            existing[namespace] = {item["metadata"]["name"] for item in items}
        return existing

    def _wait_for_crds(self, crds):
        for crd in crds:
            name = crd["metadata"]["name"]
            spec = crd.get("spec") or {}
            versions = [version["name"] for version in spec.get("versions") or [] if version.get("served", True)]
            versions = versions or [spec.get("version")]
            served_path = resource_path(spec.get("group"), versions[0], (spec.get("names") or {}).get("plural"))
            wait_for(lambda name=name, served_path=served_path: self._crd_served(name, served_path),
                     self.crd_timeout, f"CustomResourceDefinition {name}")

    def _crd_served(self, name, served_path):
        live = self.rest.get(resource_path("apiextensions.k8s.io", "v1", "customresourcedefinitions", name=name),
                             f"CustomResourceDefinition {name}")
        if live is None:
            return False, "not found"
        conditions = {condition.get("type"): condition.get("status") for condition in (live.get("status") or {}).get("conditions") or []}
        if conditions.get("Established") != "True":
            return False, "not Established yet"
        if self.rest.get(served_path, f"list {served_path}", query=[("limit", "1")]) is None:
            return False, "Established, not served yet"
        return True, "served"


def _allocation_taken(error):
    return any(words in (error.server_message or "") for words in ALLOCATION_WORDS)


def _contains(live, desired):
    """Whether every field desired sets has that value in live (what server-side apply would not change)."""
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(key in live and _contains(live[key], value) for key, value in desired.items())
    if isinstance(desired, list):
        return isinstance(live, list) and len(live) == len(desired) and all(map(_contains, live, desired))
    return live == desired
