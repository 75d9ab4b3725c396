"""gpve_k8s_vm against the testbed's fakepve: happy path, check mode, rerun, scale, delete."""

from __future__ import annotations

import pytest
from k8s_vm_support import request, spec

pytestmark = pytest.mark.k8s_vm

EXPECTED = {
    'demo-cp-1': ('control-plane', None, '10.20.0.10'), 'demo-cp-2': ('control-plane', None, '10.20.0.11'),
    'demo-cp-3': ('control-plane', None, '10.20.0.12'), 'demo-general-1': ('worker', 'general', '10.20.0.13'),
    'demo-general-2': ('worker', 'general', '10.20.0.14'), 'demo-storage-1': ('worker', 'storage', '10.20.0.15'),
    'demo-lb': ('lb', None, '10.20.0.16'),
}


def test_happy_path_in_process(service, proxmox, store):
    result = service.run(request(spec()))
    assert result['changed']
    cluster = result['cluster']
    assert (cluster['name'], cluster['type'], cluster['phase']) == ('demo', 'k8s-vm', 'Bootstrapping')
    assert cluster['endpoint'] == 'https://10.20.0.5:6443'
    got = dict((n['name'], (n['role'], n['pool'], n['ip'])) for n in result['nodes'])
    assert got == EXPECTED
    vms = proxmox.tagged(cluster['id'])
    assert sorted(vms) == sorted(EXPECTED)
    cps = [vms['demo-cp-{0}'.format(i)]['node'] for i in (1, 2, 3)]
    assert sorted(cps) == ['pve1', 'pve2', 'pve3']
    assert all(vm['status'] == 'running' for vm in vms.values())


def _events(store, cluster_id):
    return [(e.type, e.reason) for e in reversed(store.list_events(cluster_id=cluster_id, limit=500))]


def test_happy_path_module(module, proxmox, store):
    """Three control planes, two worker pools, static addresses, run as Ansible runs the module."""
    result = module.run(spec())
    assert result.get('failed') is not True, result.get('msg')
    assert result['changed'] is True
    cluster = result['cluster']
    assert (cluster['phase'], cluster['endpoint']) == ('Bootstrapping', 'https://10.20.0.5:6443')
    assert dict((n['name'], (n['role'], n['pool'], n['ip'])) for n in result['nodes']) == EXPECTED
    assert all(n['status'] == 'Running' for n in result['nodes'])

    vms = proxmox.tagged(cluster['id'])
    assert sorted(vms) == sorted(EXPECTED)
    cp1 = vms['demo-cp-1']['config']
    assert cp1['ipconfig0'] == 'ip=10.20.0.10/24,gw=10.20.0.1'
    assert cp1['nameserver'] == '10.20.0.2' and cp1['ciuser'] == 'ubuntu'
    assert cp1['sshkeys'].startswith('ssh-ed25519%20AAAA')
    assert (str(cp1['cores']), str(cp1['memory'])) == ('2', '1024')
    assert cp1['tags'] == 'gpve-cluster-{0};gpve-role-control-plane'.format(cluster['id'])
    assert 'gpve-spec: ' in cp1['description']
    storage = vms['demo-storage-1']['config']
    assert storage['tags'] == 'gpve-cluster-{0};gpve-pool-storage;gpve-role-worker'.format(cluster['id'])
    assert storage['scsi1'].startswith('local-lvm:')
    assert 'bridge=vmbr0' in storage['net0'] and storage['net0'].startswith('virtio=')
    # Each VM was cloned from the template on its own node.
    for name, vm in vms.items():
        node = [n for n in result['nodes'] if n['name'] == name][0]
        assert vm['node'] == node['proxmox_node']
        assert vm['status'] == 'running'

    registered = store.get_cluster(cluster['id'])
    assert registered.type == 'k8s-vm' and registered.status.phase == 'Bootstrapping'
    assert registered.spec['distribution'] == 'kubeadm'
    nodes = dict((n.name, n) for n in store.list_nodes(cluster['id']))
    assert nodes['demo-general-2'].ip_address == '10.20.0.14' and nodes['demo-general-2'].status == 'Running'
    assert nodes['demo-storage-1'].labels == {'disk': 'ssd'}
    events = _events(store, cluster['id'])
    assert events[0] == ('Transition', 'Registered')
    assert ('Transition', 'ProvisioningStarted') in events and events[-1] == ('Transition', 'VMsReady')
    assert events.count(('Normal', 'VMProvisioned')) == 7


def test_check_mode_writes_nothing(module, proxmox, store):
    before = proxmox.writes()
    result = module.run(spec(), check_mode=True, diff=True)
    assert result.get('failed') is not True, result.get('msg')
    assert result['changed'] is True
    assert result['cluster']['id'] is None
    assert result['plan']['create'] == list(EXPECTED)
    assert sorted(result['diff']['after']['vms']) == sorted(EXPECTED) and result['diff']['before']['vms'] == {}
    assert [(vm['name'], vm['ip']) for vm in result['plan']['vms']] == [(k, v[2]) for k, v in EXPECTED.items()]
    assert proxmox.writes() == before
    assert proxmox.guests() == {}
    assert store.query_clusters(include_deleted=True) == []


def test_rerun_changes_nothing(module, proxmox, store):
    first = module.run(spec())
    assert first['changed'] is True, first.get('msg')
    writes = proxmox.writes()
    events = store.list_events(limit=1000)
    nodes = [n.as_dict() for n in store.list_nodes(first['cluster']['id'])]
    again = module.run(spec())
    assert again.get('failed') is not True, again.get('msg')
    assert again['changed'] is False
    assert again['nodes'] == first['nodes']
    assert again['plan']['create'] == [] and again['plan']['update'] == {} and again['plan']['delete'] == []
    assert proxmox.writes() == writes
    assert store.list_events(limit=1000) == events
    assert [n.as_dict() for n in store.list_nodes(first['cluster']['id'])] == nodes
    check = module.run(spec(), check_mode=True)
    assert check['changed'] is False
