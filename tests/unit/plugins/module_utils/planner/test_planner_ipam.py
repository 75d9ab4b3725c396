"""Static addresses: the lowest free ones in order, existing ones kept, never one of another cluster's."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.planner import ipam

pytestmark = pytest.mark.k8s_vm


def pool(start='10.0.0.10', end='10.0.0.14', reserved=()):
    return ipam.AddressPool(start, end, 24, reserved)


def test_lowest_free_addresses_in_plan_order():
    assert ipam.allocate(pool(), ['a', 'b', 'c'], {}, set()) == {'a': '10.0.0.10', 'b': '10.0.0.11', 'c': '10.0.0.12'}


def test_addresses_of_other_clusters_are_skipped():
    got = ipam.allocate(pool(), ['a', 'b'], {}, {'10.0.0.10', '10.0.0.12'})
    assert got == {'a': '10.0.0.11', 'b': '10.0.0.13'}


def test_existing_vms_keep_their_address_and_new_ones_fill_gaps():
    got = ipam.allocate(pool(), ['a', 'b', 'c'], {'b': '10.0.0.10'}, set())
    assert got == {'a': '10.0.0.11', 'b': '10.0.0.10', 'c': '10.0.0.12'}


def test_an_existing_address_another_cluster_holds_is_given_up():
    got = ipam.allocate(pool(), ['a'], {'a': '10.0.0.10'}, {'10.0.0.10'})
    assert got == {'a': '10.0.0.11'}


def test_gateway_vip_network_and_broadcast_are_never_handed_out():
    wide = ipam.AddressPool('10.0.0.0', '10.0.0.255', 24, ['10.0.0.1', '10.0.0.5'])
    got = ipam.allocate(wide, ['a', 'b', 'c', 'd'], {}, set())
    assert list(got.values()) == ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.6']
    assert wide.size() == 256 - 4


def test_exhausted_range_names_the_field_and_the_fix():
    with pytest.raises(ValidationError) as caught:
        ipam.allocate(pool(end='10.0.0.11'), ['a', 'b', 'c'], {}, set())
    assert caught.value.field == 'network.vm_network.ip_range'
    assert 'widen the range' in str(caught.value)


def test_free_count_counts_only_taken_addresses_inside_the_range():
    assert pool().free_count({'10.0.0.10', '10.9.9.9'}) == 4
