"""reconcile.apply_objects with workers > 1: the namespace first, the rest at once, Changes in the caller's order,
the first failure in that order raised."""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.kube import reconcile
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeApiError

pytestmark = pytest.mark.vcluster


class RecordingResources:
    """Records the order of applies and how many ran at once; fails the names in failing."""

    def __init__(self, failing=()):
        self.order = []
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()
        self.failing = set(failing)

    def get(self, kind, name, namespace=None):
        return None

    def apply(self, desired, dry_run=False):
        with self.lock:
            self.order.append(desired["metadata"]["name"])
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self.lock:
            self.running -= 1
        if desired["metadata"]["name"] in self.failing:
            raise KubeApiError(422, "Invalid", "refused", desired["metadata"]["name"])
        return desired


def objects():
    found = [{"kind": "Namespace", "metadata": {"name": "vc-a"}}]
    found += [{"kind": "ServiceAccount", "metadata": {"name": f"sa-{n}", "namespace": "vc-a"}} for n in range(6)]
    return found


def test_namespace_first_then_concurrently_in_order():
    resources = RecordingResources()
    changes = reconcile.apply_objects(resources, objects(), workers=4)
    assert [c.name for c in changes] == ["vc-a"] + [f"sa-{n}" for n in range(6)]
    assert all(c.action == reconcile.CREATED for c in changes)
    assert resources.order[0] == "vc-a" and resources.most > 1


def test_one_at_a_time_by_default():
    resources = RecordingResources()
    reconcile.apply_objects(resources, objects())
    assert resources.most == 1 and resources.order == [o["metadata"]["name"] for o in objects()]


def test_the_first_failure_in_order_is_raised():
    resources = RecordingResources(failing={"sa-4", "sa-1"})
    with pytest.raises(KubeApiError, match="sa-1"):
        reconcile.apply_objects(resources, objects(), workers=4)
