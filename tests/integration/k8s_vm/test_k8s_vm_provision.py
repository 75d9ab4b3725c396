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


def test_dhcp_vlan_and_linked_clones(service, proxmox):
    raw = spec(control_plane={'replicas': 1, 'resources': {'memory': 1024, 'disk_size': 20, 'numa': True}},
               workers=[{'name': 'w', 'replicas': 2, 'resources': {'memory': 1024, 'disk_size': 20}}],
               network={'vm_network': {'ip_allocation': 'dhcp', 'vlan': 20, 'bridge': 'vmbr1'}},
               load_balancer={'type': 'external', 'external_address': 'api.example.test'})
    # PVE refuses a storage for linked clones: the run passing proves none was sent.
    result = service.run(request(raw, full_clone=False, storage='local-lvm'))
    assert all(vm['full_clone'] is False and vm['clone_storage'] is None for vm in result['plan']['vms'])
    assert result['cluster']['endpoint'] == 'https://api.example.test:6443'
    vms = proxmox.tagged(result['cluster']['id'])
    for node in result['nodes']:
        config = vms[node['name']]['config']
        assert config['ipconfig0'] == 'ip=dhcp'
        assert ',bridge=vmbr1,tag=20' in config['net0']
        assert config['scsi0'].startswith('local-lvm:vm-{0}-disk-0'.format(node['vmid']))
        assert node['ip'].startswith('10.99.')  # the lease the guest reported
    assert str(vms['demo-cp-1']['config']['numa']) == '1'


def test_cloud_init_mode_leaves_the_template_network_alone(service, proxmox):
    raw = spec(control_plane={'replicas': 1, 'resources': {'memory': 1024, 'disk_size': 20}}, workers=[],
               network={'vm_network': {'ip_allocation': 'cloud-init'}},
               load_balancer={'type': 'external', 'external_address': '10.20.0.5'})
    result = service.run(request(raw))
    config = proxmox.tagged(result['cluster']['id'])['demo-cp-1']['config']
    assert config['ipconfig0'] == 'ip=dhcp'  # the template's own setting
    assert result['nodes'][0]['ip'].startswith('10.99.')
