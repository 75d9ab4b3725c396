"""Placement: control planes on distinct nodes, then free memory, honouring placement and the template."""

from __future__ import annotations

import pytest
from k8s_vm_planner_helpers import make_env, template

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.planner import placement

pytestmark = pytest.mark.k8s_vm


def slots(count, group='control-plane', memory=1024, nodes=(), anti=True, field='control_plane'):
    return [placement.Slot(name='{0}-{1}'.format(group, i), group=group, memory_mb=memory,
                           template='ubuntu-22.04-k8s', field=field, nodes=list(nodes), anti_affinity=anti,
                           group_size=count) for i in range(1, count + 1)]


def place(items, env, current=None, topology=(), node=None):
    return placement.place(placement.Request(items, list(topology), node), env, current or {})


def test_control_planes_spread_over_distinct_nodes(env):
    assert sorted(place(slots(3), env).values()) == ['pve1', 'pve2', 'pve3']


def test_more_control_planes_than_nodes_is_refused_with_the_fix(env):
    with pytest.raises(ValidationError) as caught:
        place(slots(5), env)
    assert caught.value.field == 'control_plane.placement'
    assert 'anti_affinity' in str(caught.value)


def test_workers_go_where_memory_is_free():
    env = make_env()
    env.nodes['pve2'].mem = 0
    got = place(slots(2, group='pool:w', anti=False, field='workers[0]', memory=2048), env)
    # pve2 has 8192 MB free, the others 6144: the first worker takes pve2; then all tie at 6144 and the
    # node with fewer VMs of the cluster wins, by name.
    assert got == {'pool:w-1': 'pve2', 'pool:w-2': 'pve1'}


def test_free_memory_shrinks_as_vms_are_placed(env):
    got = place(slots(3, group='pool:w', anti=False, field='workers[0]', memory=4096), env)
    assert sorted(got.values()) == ['pve1', 'pve2', 'pve3']


def test_not_enough_memory_names_the_field(env):
    with pytest.raises(ValidationError) as caught:
        place(slots(1, group='pool:w', anti=False, field='workers[0]', memory=8192), env)
    assert caught.value.field == 'workers[0].resources.memory'
    assert '6144 MB' in str(caught.value)


def test_placement_nodes_are_honoured(env):
    got = place(slots(2, group='pool:w', anti=False, field='workers[0]', nodes=['pve3']), env)
    assert set(got.values()) == {'pve3'}


def test_topology_placement_and_the_node_option_restrict_candidates(env):
    assert set(place(slots(1), env, topology=['pve2']).values()) == {'pve2'}
    assert set(place(slots(1), env, node='pve3').values()) == {'pve3'}


def test_unknown_node_is_a_typo_to_fix(env):
    with pytest.raises(ValidationError) as caught:
        place(slots(1, nodes=['pve9']), env)
    assert caught.value.field == 'control_plane.placement.nodes'
    assert 'pve9' in str(caught.value)


def test_offline_nodes_are_left_out():
    env = make_env(offline=['pve2'])
    got = place(slots(2, group='pool:w', anti=False, field='workers[0]', memory=4096), env)
    assert 'pve2' not in got.values()


def test_all_allowed_nodes_offline_is_an_error():
    env = make_env(offline=['pve2'])
    with pytest.raises(ValidationError) as caught:
        place(slots(1, nodes=['pve2']), env)
    assert 'offline' in str(caught.value)


def test_nodes_without_the_template_are_skipped_unless_it_is_on_shared_storage():
    env = make_env(templates=[template(9000, 'pve1')])
    assert set(place(slots(1, group='pool:w', anti=False, field='workers[0]'), env).values()) == {'pve1'}
    shared = make_env(templates=[template(9000, 'pve1', storage='ceph')], shared=['ceph'])
    assert sorted(place(slots(3), shared).values()) == ['pve1', 'pve2', 'pve3']


def test_missing_template_names_the_template_field():
    env = make_env(templates=[template(9000, 'pve1', name='other')])
    with pytest.raises(ValidationError) as caught:
        place(slots(1), env)
    assert caught.value.field == 'control_plane.template'


def test_existing_vms_stay_and_count_for_anti_affinity(env):
    got = place(slots(3), env, current={'control-plane-1': 'pve2'})
    assert got['control-plane-1'] == 'pve2'
    assert sorted(got.values()) == ['pve1', 'pve2', 'pve3']
