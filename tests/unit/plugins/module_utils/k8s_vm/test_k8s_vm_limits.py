"""Per node and per storage bounds on concurrent VM builds."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.k8s_vm.limits import Limits
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds, stored_specs
from ansible_collections.gpve.cluster.plugins.module_utils.planner import spec as specs

pytestmark = pytest.mark.k8s_vm


class Gauge:
    def __init__(self):
        self.lock = threading.Lock()
        self.now = {}
        self.most = {}

    def enter(self, key):
        with self.lock:
            self.now[key] = self.now.get(key, 0) + 1
            self.most[key] = max(self.most.get(key, 0), self.now[key])

    def leave(self, key):
        with self.lock:
            self.now[key] -= 1


def run(limits, jobs, meet):
    """jobs: (node, storage) pairs; inside its slot each job waits at the barrier of its key."""
    gauge = Gauge()

    def job(node, storage):
        with limits.hold(node, storage):
            for key in (node, storage):
                gauge.enter(key)
            meet[node].wait()
            for key in (node, storage):
                gauge.leave(key)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        for future in [pool.submit(job, *pair) for pair in jobs]:
            future.result()
    return gauge.most


def test_at_most_per_node_builds_at_once_on_a_node():
    limits = Limits(per_node=2, per_storage=10)
    # Two jobs of a node meet at a barrier of two: they must be inside together; a third never joins them.
    meet = {'pve1': threading.Barrier(2, timeout=30), 'pve2': threading.Barrier(2, timeout=30)}
    most = run(limits, [('pve1', 's')] * 6 + [('pve2', 's')] * 4, meet)
    assert most['pve1'] == 2 and most['pve2'] == 2
    assert most['s'] <= 4


def test_the_storage_bound_holds_across_nodes():
    limits = Limits(per_node=4, per_storage=1)
    meet = dict((node, threading.Barrier(1)) for node in ('pve1', 'pve2', 'pve3'))
    most = run(limits, [('pve1', 'ceph'), ('pve2', 'ceph'), ('pve3', 'ceph')] * 3, meet)
    assert most['ceph'] == 1


def test_threads_follow_the_vms_up_to_a_ceiling():
    assert Limits.workers_for(range(7)) == 7
    assert Limits.workers_for(range(500)) == 32
    assert Limits.workers_for([]) == 1


def test_the_registry_form_of_the_spec_reads_back_unchanged():
    spec = specs.normalise({'name': 'x', 'distribution': {'type': 'k3s', 'version': 'v1.37.2+k3s1'}})
    stored = stored_specs.to_stored(kinds.K8S_VM, spec)
    assert stored['distribution'] == 'k3s' and 'network' not in stored and 'networking' in stored
    assert 'name' not in stored and 'labels' not in stored  # the cluster row holds them
    assert specs.normalise(dict(stored_specs.from_stored(kinds.K8S_VM, stored), name='x', labels={})) == spec
