# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bring live objects to their desired state, writing only what differs.

For an existing object the desired state is applied as a dry run first; the server's
answer is what the object would become, so comparing it with the live object (without the
fields the server keeps for itself: resourceVersion, managedFields, status...) says
exactly whether anything would change, defaults and normalised quantities included.
Only then is it applied for real. Check mode stops after the comparison. Before/after
are kept for diff mode with Secret values replaced by a digest: a diff shows which key
changed, never its content.

A real pass that follows a check-mode pass over the same desired objects reuses what
that pass learnt (``previous``): unchanged objects cost no request, changed or missing
ones go straight to the apply. Objects known to be absent (their namespace does not
exist yet) are not read at all.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field

from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeApiError
from ansible_collections.gpve.cluster.plugins.module_utils.kube.resources import describe

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
DELETED = "deleted"
ABSENT = "absent"
SERVER_METADATA = ("resourceVersion", "managedFields", "generation", "creationTimestamp", "uid", "selfLink")


@dataclass
class Change:
    """What happened (or would happen, in check mode) to one object."""

    kind: str
    name: str
    namespace: str
    action: str
    before: dict = field(default=None, repr=False)
    after: dict = field(default=None, repr=False)
    live: dict = field(default=None, repr=False)
    desired: dict = field(default=None, repr=False)

    @property
    def changed(self):
        return self.action in (CREATED, UPDATED, DELETED)

    def summary(self):
        """What a module returns about the object: no content, no secret."""
        return {"kind": self.kind, "name": self.name, "namespace": self.namespace or None, "action": self.action}


def apply_object(resources, desired, check_mode=False, previous=None, known_absent=False):
    """Create or update one object as needed; returns its Change (live: the object as stored now).

    previous: the Change a check-mode pass found for this very desired object; known_absent:
    the caller knows the object does not exist (no read).
    """
    metadata = desired["metadata"]
    kind, name, namespace = desired["kind"], metadata["name"], metadata.get("namespace", "")
    if previous is not None and previous.desired == desired and not check_mode:
        if previous.action == UNCHANGED:
            return previous
        stored = resources.apply(desired)
        return Change(kind, name, namespace, previous.action, previous.before, comparable(stored), stored, desired)
    live = None if known_absent else resources.get(kind, name, namespace or None)
    if live is None:
        stored = desired if check_mode else resources.apply(desired)
        return Change(kind, name, namespace, CREATED, None, comparable(stored), stored, desired)
    try:
        would_be = resources.apply(desired, dry_run=True)
    except KubeApiError as exc:
        if not (check_mode and _exceeds_quota(exc)):
            raise
        # A change the quota refuses as it stands, in a pass that may raise that quota first (a vCluster exposed as a
        # NodePort raises its own services.nodeports): counted as an update; the real pass, after the quota, decides.
        return Change(kind, name, namespace, UPDATED, comparable(live), comparable(desired), live, desired)
    before, after = comparable(live), comparable(would_be)
    if before == after:
        return Change(kind, name, namespace, UNCHANGED, before, after, live, desired)
    stored = would_be if check_mode else resources.apply(desired)
    return Change(kind, name, namespace, UPDATED, before, after, stored, desired)


def apply_objects(resources, desired_objects, check_mode=False, previous=None, absent_namespace=None, workers=1):
    """apply_object for each, in order (namespace first, workloads last); the list of Changes, in that order.

    previous: Changes of a check-mode pass (any order); absent_namespace: a namespace known
    not to exist, so it and every object in it are absent. workers > 1: Namespaces first, then
    the other objects concurrently (callers pass objects that do not depend on one another
    beyond their namespace); the first failure in list order is raised.
    """
    earlier = {_key(change.kind, change.name, change.namespace): change for change in previous or []}
    jobs = []
    for desired in desired_objects:
        metadata = desired["metadata"]
        key = _key(desired["kind"], metadata["name"], metadata.get("namespace", ""))
        absent = absent_namespace is not None and (metadata.get("namespace") == absent_namespace or
                                                   (desired["kind"] == "Namespace" and metadata["name"] == absent_namespace))
        jobs.append((desired, earlier.get(key), absent))
    if workers <= 1 or len(jobs) < 3:
        return [apply_object(resources, desired, check_mode, before, absent) for desired, before, absent in jobs]
    from concurrent.futures import ThreadPoolExecutor  # only runs that apply many objects pay for it
    results = [None] * len(jobs)
    rest = []
    for index, (desired, before, absent) in enumerate(jobs):
        if desired["kind"] == "Namespace":
            results[index] = apply_object(resources, desired, check_mode, before, absent)
        else:
            rest.append(index)
    with ThreadPoolExecutor(max_workers=min(workers, len(rest) or 1), thread_name_prefix="gpve-apply") as pool:
        futures = {index: pool.submit(apply_object, resources, jobs[index][0], check_mode, jobs[index][1],
                                      jobs[index][2]) for index in rest}
    for index in rest:
        results[index] = futures[index].result()
    return results


def _exceeds_quota(error):
    return error.status == 403 and "exceeded quota" in str(error)


def _key(kind, name, namespace):
    return (kind, namespace or "", name)


def delete_object(resources, kind, name, namespace=None, check_mode=False):
    """Delete one object if it exists; its Change (DELETED or ABSENT)."""
    live = resources.get(kind, name, namespace)
    if live is None:
        return Change(kind, name, namespace or "", ABSENT)
    if not check_mode:
        resources.delete(kind, name, namespace)
    return Change(kind, name, namespace or "", DELETED, comparable(live), None, live)


def comparable(obj):
    """obj without what the server maintains on its own, Secret values digested; for comparing and diffs."""
    if obj is None:
        return None
    clean = copy.deepcopy(obj)
    clean.pop("status", None)
    metadata = clean.get("metadata") or {}
    for key in SERVER_METADATA:
        metadata.pop(key, None)
    if clean.get("kind") == "Secret":
        for section in ("data", "stringData"):
            if section in clean:
                clean[section] = {key: _digest(value) for key, value in (clean[section] or {}).items()}
    return clean


def diff_of(changes):
    """Ansible's diff for a list of Changes: before and after keyed by object."""
    before, after = {}, {}
    for change in changes:
        if not change.changed:
            continue
        key = describe(change.kind, change.name, change.namespace or None)
        if change.before is not None:
            before[key] = change.before
        if change.after is not None:
            after[key] = change.after
    return {"before": before, "after": after}


def _digest(value):
    text = value if isinstance(value, str) else str(value)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
