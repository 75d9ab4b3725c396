"""Every validation rule: a table of invalid specs, each naming its field and the fix."""

from __future__ import annotations

import copy

import pytest
from k8s_vm_invalid_specs import CASES
from k8s_vm_planner_helpers import make_env, small_spec

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.planner import spec as specs, validate

pytestmark = pytest.mark.k8s_vm


@pytest.mark.parametrize('raw', [small_spec(), {'name': 'defaults'}], ids=['small', 'defaults'])
def test_the_valid_spec_and_the_defaults_pass_and_the_same_with_two_control_planes_does_not(raw):
    spec = specs.normalise(raw)
    assert validate.validate_spec(spec) is None
    even = specs.normalise(dict(copy.deepcopy(raw), control_plane={'replicas': 2}))
    with pytest.raises(ValidationError) as caught:
        validate.validate_spec(even)
    assert caught.value.field == 'control_plane.replicas'


@pytest.mark.parametrize('change,field,words', [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_invalid_spec(change, field, words):
    spec = specs.normalise(change(copy.deepcopy(small_spec())))
    with pytest.raises(ValidationError) as caught:
        validate.validate_spec(spec)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert str(caught.value).startswith(field + ': ')


@pytest.mark.parametrize('old,new', [(3, 5), (3, 1), (1, 3), (3, 3)])
def test_control_plane_changes_between_odd_counts_pass_and_to_an_even_count_do_not(old, new):
    before = specs.normalise(small_spec(control_plane={'replicas': old}))
    after = specs.normalise(small_spec(control_plane={'replicas': new}))
    assert validate.validate_change(before, after) is None
    with pytest.raises(ValidationError) as caught:
        validate.validate_change(before, specs.normalise(small_spec(control_plane={'replicas': new + 1})))
    assert 'odd counts only' in str(caught.value)


def test_an_even_count_reached_through_external_etcd_then_dropped_is_refused():
    etcd = {'external_etcd': {'endpoints': ['https://10.0.0.21:2379']}}
    before = specs.normalise(small_spec(control_plane={'replicas': 2}, topology=etcd))
    after = specs.normalise(small_spec(control_plane={'replicas': 3}))
    with pytest.raises(ValidationError) as caught:
        validate.validate_change(before, after)
    assert 'odd counts only' in str(caught.value)


def test_ip_allocation_cannot_change_on_an_existing_cluster():
    before = specs.normalise(small_spec())
    raw = small_spec()
    raw['network'] = {'vm_network': {'ip_allocation': 'dhcp'}}
    with pytest.raises(ValidationError) as caught:
        validate.validate_change(before, specs.normalise(raw))
    assert caught.value.field == 'network.vm_network.ip_allocation'


def test_lost_quorum_and_no_online_node_fail_before_any_write():
    spec = specs.normalise(small_spec())
    with pytest.raises(ValidationError) as caught:
        validate.validate_environment(spec, make_env(quorate=False))
    assert 'lost quorum' in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        validate.validate_environment(spec, make_env(offline=['pve1', 'pve2', 'pve3']))
    assert 'no Proxmox node is online' in str(caught.value)


def test_other_clusters_addresses_count_against_the_range():
    spec = specs.normalise(small_spec(network={'vm_network': {
        'ip_allocation': 'static', 'ip_range': {'start': '10.20.0.10', 'end': '10.20.0.17'}, 'prefix': 24,
        'gateway': '10.20.0.1'}}))
    validate.validate_environment(spec, make_env())
    with pytest.raises(ValidationError) as caught:
        validate.validate_environment(spec, make_env(), taken_ips={'10.20.0.10', '10.20.0.11'})
    assert 'has 6 usable addresses free' in str(caught.value)


def test_external_etcd_allows_an_even_control_plane():
    spec = specs.normalise(small_spec(control_plane={'replicas': 2},
                                      topology={'external_etcd': {'endpoints': ['https://10.0.0.21:2379']}}))
    assert validate.validate_spec(spec) is None
    with pytest.raises(ValidationError) as caught:
        validate.validate_spec(specs.normalise(small_spec(control_plane={'replicas': 2})))
    assert caught.value.field == 'control_plane.replicas'
