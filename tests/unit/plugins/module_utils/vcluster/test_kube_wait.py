"""Waiting: backoff on an injected clock, timeouts naming the last detail, StatefulSet readiness."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.kube import wait
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeConnectionError, KubeWaitTimeout

pytestmark = pytest.mark.vcluster


class Clock:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def test_polls_fast_first_then_backs_off_to_one_second():
    clock = Clock()
    answers = iter([(False, "0/1")] * 8 + [(True, "1/1")])
    assert wait.wait_for(lambda: next(answers), 60, "thing", clock=clock, sleep=clock.sleep) == "1/1"
    assert clock.sleeps == [0.1, 0.15, 0.225, 0.338, 0.506, 0.759, 1.0, 1.0]


def test_timeout_names_the_object_and_the_last_detail_and_connection_errors_count_as_not_done():
    clock = Clock()
    answers = iter([(False, "0/3 replicas ready")] * 3)

    def check():
        try:
            return next(answers)
        except StopIteration:
            raise KubeConnectionError("StatefulSet ns/x: the API server could not be reached") from None

    with pytest.raises(KubeWaitTimeout, match=r"^StatefulSet ns/x: not done after 5s: .*could not be reached$"):
        wait.wait_for(check, 5, "StatefulSet ns/x", clock=clock, sleep=clock.sleep)
    assert clock.now == pytest.approx(5.0)


def statefulset(generation=2, observed=2, replicas=1, ready=1, updated=1, current="a", update="a"):
    return {"metadata": {"generation": generation},
            "status": {"observedGeneration": observed, "replicas": replicas, "readyReplicas": ready,
                       "updatedReplicas": updated, "currentRevision": current, "updateRevision": update}}


@pytest.mark.parametrize("live,wanted,done", [
    (statefulset(), 1, True),
    (statefulset(observed=1), 1, False),
    (statefulset(ready=0), 1, False),
    (statefulset(updated=0, update="b"), 1, False),
    (statefulset(replicas=3, ready=3, updated=3), 3, True),
    (statefulset(replicas=0, ready=0, updated=0), 0, True),
    (statefulset(replicas=1, ready=0), 0, False),
    (None, 1, False),
])
def test_statefulset_ready_needs_the_observed_generation_ready_and_updated_replicas(live, wanted, done):
    assert wait.statefulset_ready(live, wanted)[0] is done
