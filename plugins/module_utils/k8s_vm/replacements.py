# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether the workloads a drain evicted have their pods back on the other nodes (pure: pods in, verdict out).

kubectl drain waits only until the old pods are gone; a node leaving the cluster must not be deleted (and its VM
destroyed) while the replacements are still starting. A workload is a pod's controller (its controller
ownerReference, by uid); DaemonSets and static pods (a mirror pod's controller is its Node) are not moved by a
drain. A workload is back when its pods off the leaving node, Ready or found unschedulable by the scheduler (a pod
that can run only on the leaving node never will), are at least as many as its Ready pods were before the drain.
"""

from __future__ import annotations

# Controllers whose pods a drain does not move: a DaemonSet's, and a static pod's mirror (owned by its Node: a
# control plane's etcd, API server, controller manager and scheduler), which leaves with the node.
NOT_MOVED = ('DaemonSet', 'Node')


def _controller(pod):
    for ref in (pod.get('metadata') or {}).get('ownerReferences') or []:
        if ref.get('controller') and ref.get('kind') not in NOT_MOVED:
            return ref
    return None


def _condition_is(pod, kind, status):
    return any(c.get('type') == kind and c.get('status') == status for c in (pod.get('status') or {}).get('conditions') or [])


def _ready(pod):
    return _condition_is(pod, 'Ready', 'True')


def _unschedulable(pod):
    return _condition_is(pod, 'PodScheduled', 'False')


def _live(pod):
    return not (pod.get('metadata') or {}).get('deletionTimestamp')


def _on(pod, node):
    return (pod.get('spec') or {}).get('nodeName') == node


def evicted(pods_before, node):
    """{uid: workload} of the controllers with a pod on node, each with its Ready pod count before the drain."""
    workloads = {}
    for pod in pods_before:
        ref = _controller(pod)
        if ref and _on(pod, node):
            workloads[ref['uid']] = {'kind': ref.get('kind'), 'name': ref.get('name'),
                                     'namespace': (pod.get('metadata') or {}).get('namespace'), 'ready_before': 0}
    for pod in pods_before:
        ref = _controller(pod)
        if ref and ref['uid'] in workloads and _live(pod) and _ready(pod):
            workloads[ref['uid']]['ready_before'] += 1
    return workloads


def pending(pods_after, pods_before, node):
    """The evicted workloads not back yet, each with how many of its pods count as back; [] when all are."""
    short = []
    for uid, workload in sorted(evicted(pods_before, node).items()):
        back = sum(1 for pod in pods_after
                   if _live(pod) and not _on(pod, node) and (_controller(pod) or {}).get('uid') == uid
                   and (_ready(pod) or _unschedulable(pod)))
        if back < workload['ready_before']:
            short.append(dict(workload, back=back))
    return short
