"""Invalid specs against the real fakepve and registry: each fails naming the field and the fix, and
neither Proxmox nor the registry changes."""

from __future__ import annotations

import copy

import pytest
from k8s_vm_support import registry_state, request, spec

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from tests.unit.plugins.module_utils.planner.k8s_vm_invalid_specs import CASES as SPEC_CASES

pytestmark = pytest.mark.k8s_vm


def _set(section, key, value):
    def change(raw):
        raw[section][key] = value
        return raw
    return change


def _pool(index, key, value):
    def change(raw):
        raw['workers'][index][key] = value
        return raw
    return change


# Cases that only Proxmox can refute: (id, change, options, field, words).
ENVIRONMENT_CASES = [
    ('no-such-template', _set('control_plane', 'template', 'debian-13-k8s'), {}, 'control_plane.template',
     "'debian-13-k8s' is not on any eligible node"),
    ('template-by-unknown-vmid', _set('control_plane', 'template', '8999'), {}, 'control_plane.template', "'8999'"),
    ('not-enough-memory', _pool(0, 'resources', {'memory': 7000, 'disk_size': 20}), {},
     'workers[0].resources.memory', 'needs 7000 MB'),
    ('unknown-proxmox-node', _set('control_plane', 'placement', {'nodes': ['pve1', 'pve9']}), {},
     'control_plane.placement.nodes', 'no Proxmox node named pve9'),
    ('unknown-default-node', lambda raw: raw, {'node': 'pve7'}, 'node', 'no Proxmox node named pve7'),
    ('one-node-for-three-control-planes', lambda raw: raw, {'node': 'pve1'}, 'control_plane.placement',
     'need 3 distinct Proxmox nodes'),
    ('unknown-storage', lambda raw: raw, {'storage': 'ceph-vm'}, 'storage', "storage 'ceph-vm' is not configured"),
    ('disk-smaller-than-template', _set('control_plane', 'resources', {'memory': 1024, 'disk_size': 5}), {},
     'control_plane.resources.disk_size', 'cannot shrink'),
    ('disk-on-iso-storage', _pool(1, 'additional_disks', [{'size': 10, 'storage': 'local'}]), {},
     'workers[1].additional_disks[0].storage', 'does not hold VM disk images'),
]


def _unchanged(proxmox, store, run, field, words):
    registry_before, writes_before, guests_before = registry_state(store), proxmox.writes(), proxmox.guests()
    with pytest.raises(ValidationError) as caught:
        run()
    assert caught.value.field == field, str(caught.value)
    assert words in str(caught.value)
    assert registry_state(store) == registry_before
    assert proxmox.writes() == writes_before
    assert proxmox.guests() == guests_before


@pytest.mark.parametrize('change,field,words', [case[1:] for case in SPEC_CASES], ids=[case[0] for case in SPEC_CASES])
def test_invalid_spec_changes_nothing(service, proxmox, store, change, field, words):
    _unchanged(proxmox, store, lambda: service.run(request(change(copy.deepcopy(spec())))), field, words)


@pytest.mark.parametrize('change,options,field,words', [case[1:] for case in ENVIRONMENT_CASES],
                         ids=[case[0] for case in ENVIRONMENT_CASES])
def test_spec_proxmox_refutes_changes_nothing(service, proxmox, store, change, options, field, words):
    _unchanged(proxmox, store, lambda: service.run(request(change(spec()), **options)), field, words)


def test_a_name_another_cluster_type_holds(service, proxmox, store):
    store.create_cluster('demo', 'external', spec={'endpoint': 'https://10.0.0.1:6443'})
    _unchanged(proxmox, store, lambda: service.run(request(spec())), 'name', 'external cluster named')


def test_addresses_other_clusters_hold_leave_too_few(service, proxmox, store):
    other = store.create_cluster('other', 'k8s-vm', spec={'distribution': 'k3s', 'kubernetes_version': '1.37.2'})
    store.upsert_nodes(other.id, [{'name': 'other-{0}'.format(n), 'role': 'worker', 'status': 'Running',
                                   'ip_address': '10.20.0.{0}'.format(n)} for n in range(10, 36)])
    _unchanged(proxmox, store, lambda: service.run(request(spec())), 'network.vm_network.ip_range',
               'has 5 usable addresses free')


def test_the_module_fails_with_the_field_and_writes_nothing(module, proxmox, store):
    writes = proxmox.writes()
    bad = spec()
    bad['control_plane']['replicas'] = 2
    result = module.run(bad)
    assert result['failed'] is True
    assert result['msg'].startswith('control_plane.replicas: ') and 'odd count' in result['msg']
    assert result['field'] == 'control_plane.replicas'
    wrong_choice = spec(distribution={'type': 'okd'})
    result = module.run(wrong_choice)
    assert result['failed'] is True and 'okd' in result['msg'] and 'distribution' in result['msg']
    assert proxmox.writes() == writes
    assert store.query_clusters(include_deleted=True) == []
