"""The registry side both vCluster runs share (run_record.RunRecord), over a real SQLite registry."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle as L
from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError, ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds, open_registry
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import run_record
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import spec as specs
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.service import RunOptions

pytestmark = pytest.mark.vcluster


@pytest.fixture
def store(tmp_path):
    with open_registry(str(tmp_path / "registry.db"), actor="unit", environ={}) as opened:
        yield opened


def record_for(store, state="present", version="1.35.4"):
    spec = specs.normalize({"name": "rec", "kubernetes_version": version}, {})
    return run_record.RunRecord(spec, RunOptions(state=state), store)


def test_a_first_run_registers_and_walks_the_create_route_skipping_what_it_passed(store):
    record = record_for(store)
    assert record.start() == "present" and record.cluster is None and record.phase() is None
    record.route = run_record.ROUTES[None]
    record.record()
    for stage in ("base", "workload", "wait"):
        record.enter(stage)
    record.enter("base")  # already beyond Provisioning: nothing happens
    record.enter("done", endpoint="https://10.0.0.5:6443")
    cluster = store.find_cluster("rec", type=kinds.VCLUSTER)
    assert cluster.status.phase == L.RUNNING and cluster.status.endpoint == "https://10.0.0.5:6443"
    phases = [event.metadata["to"] for event in reversed(store.list_events(cluster_id=cluster.id)) if event.type == "Transition"]
    assert phases == [L.PENDING, L.PROVISIONING, L.INITIALIZING, L.STARTING, L.RUNNING]
    again = record_for(store)
    again.start()
    assert again.unchanged_spec() is True
    newer = record_for(store, version="1.36.0")
    newer.start()
    assert newer.unchanged_spec() is False


def test_a_failure_inside_guarded_leaves_the_vcluster_failed_with_the_message(store):
    record = record_for(store)
    record.start()
    record.route = run_record.ROUTES[None]
    record.record()

    def work():
        record.enter("base")
        raise GpveError("the API server went away")

    with pytest.raises(GpveError):
        record.guarded(work)
    status = store.get_status(record.cluster.id)
    assert (status.phase, status.message) == (L.FAILED, "the API server went away")


def test_a_change_the_registered_vcluster_cannot_take_is_refused_at_start_unless_it_goes(store):
    first = record_for(store)
    first.start()
    first.record()
    with pytest.raises(ValidationError) as refused:
        record_for(store, version="1.37.0").start()
    assert refused.value.field == "kubernetes_version"
    assert record_for(store, state="absent", version="1.37.0").start() == "absent"
