"""Scale up and down, control plane changes, resume after SIGKILL, and deletion."""

from __future__ import annotations

import signal
import time

import pytest
from k8s_vm_support import request, spec

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import vm_ops

pytestmark = pytest.mark.k8s_vm


def _names(result):
    return sorted(n['name'] for n in result['nodes'])


def _to_running(store, cluster_id):
    """What the bootstrap playbook does once the distribution runs."""
    lifecycle.transition(store, cluster_id, lifecycle.INSTALLING, 'Bootstrapped')
    lifecycle.transition(store, cluster_id, lifecycle.RUNNING, 'Installed')


def test_scale_up_down_and_remove_a_pool(service, proxmox, store):
    first = service.run(request(spec()))
    cluster_id = first['cluster']['id']
    _to_running(store, cluster_id)
    vmids = dict((n['name'], n['vmid']) for n in first['nodes'])

    up = spec()
    up['workers'][0]['replicas'] = 4
    result = service.run(request(up))
    assert result['plan']['create'] == ['demo-general-3', 'demo-general-4']
    assert 'demo-general-4' in proxmox.tagged(cluster_id)
    assert result['cluster']['phase'] == 'Scaling'  # new VMs wait for the join playbook
    assert dict((n['name'], n['vmid']) for n in result['nodes'] if n['name'] in vmids) == vmids
    _to_running_from_scaling(store, cluster_id)

    down = spec()
    down['workers'][0]['replicas'] = 1
    result = service.run(request(down))
    deleted = sorted(vm['name'] for vm in result['plan']['delete'])
    assert deleted == ['demo-general-2', 'demo-general-3', 'demo-general-4']
    assert sorted(proxmox.tagged(cluster_id)) == ['demo-cp-1', 'demo-cp-2', 'demo-cp-3', 'demo-general-1', 'demo-lb',
                                                  'demo-storage-1']
    assert result['cluster']['phase'] == 'Running'
    assert sorted(n.name for n in store.list_nodes(cluster_id)) == sorted(proxmox.tagged(cluster_id))

    removed = spec()
    removed['workers'] = removed['workers'][:1]
    removed['workers'][0]['replicas'] = 1
    result = service.run(request(removed))
    assert [vm['name'] for vm in result['plan']['delete']] == ['demo-storage-1']
    assert 'demo-storage-1' not in proxmox.tagged(cluster_id)
    assert 'demo-storage-1' not in [n.name for n in store.list_nodes(cluster_id)]
    reasons = [e.reason for e in store.list_events(cluster_id=cluster_id, limit=500)]
    assert reasons.count('VMDeleted') == 4


def _to_running_from_scaling(store, cluster_id):
    lifecycle.transition(store, cluster_id, lifecycle.RUNNING, 'Joined')


def test_control_plane_grows_between_odd_counts(service, proxmox, store):
    single = spec(control_plane={'replicas': 1, 'resources': {'memory': 1024, 'disk_size': 20}}, workers=[])
    first = service.run(request(single))
    assert _names(first) == ['demo-cp-1', 'demo-lb']
    grown = spec(control_plane={'replicas': 3, 'resources': {'memory': 1024, 'disk_size': 20}}, workers=[])
    result = service.run(request(grown))
    assert result['plan']['create'] == ['demo-cp-2', 'demo-cp-3']
    nodes = dict((n['name'], n['proxmox_node']) for n in result['nodes'] if n['role'] == 'control-plane')
    assert sorted(nodes.values()) == ['pve1', 'pve2', 'pve3']
    even = spec(control_plane={'replicas': 2, 'resources': {'memory': 1024, 'disk_size': 20}}, workers=[])
    writes = proxmox.writes()
    with pytest.raises(ValidationError) as caught:
        service.run(request(even))
    assert caught.value.field == 'control_plane.replicas' and 'odd' in str(caught.value)
    assert proxmox.writes() == writes


def _wait_for(condition, what, limit=120):
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError('gave up waiting for ' + what)
        time.sleep(0.05)


def test_resume_after_sigkill(module, proxmox, store):
    # pve3 answers slowly, so the VMs placed there lag behind the others when the run is killed.
    proxmox.control.call('slow_network', 300, node='pve3')
    process = module.start(spec())
    try:
        _wait_for(lambda: any(vm['status'] == 'running' for vm in proxmox.guests().values()), 'a running VM')
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
    at_kill = proxmox.guests()
    assert 0 < len(at_kill) < 7, 'the run was not interrupted midway: {0}'.format(sorted(at_kill))
    proxmox.control.clear_faults()
    cluster = store.find_cluster('demo')
    assert cluster.status.phase == 'Provisioning'

    result = module.run(spec())
    assert result.get('failed') is not True, result.get('msg')
    assert result['cluster']['phase'] == 'Bootstrapping'
    guests = proxmox.guests()  # asserts no two VMs share a name
    assert sorted(guests) == sorted(n['name'] for n in result['nodes']) and len(guests) == 7
    for name, vm in at_kill.items():
        assert guests[name]['vmid'] == vm['vmid'], 'VM {0} was not adopted'.format(name)
    assert all(vm['status'] == 'running' for vm in guests.values())


def test_delete_destroys_every_tagged_vm_and_keeps_the_audit_trail(service, proxmox, store):
    created = service.run(request(spec()))
    cluster_id = created['cluster']['id']
    store.put_credential(cluster_id, 'kubeconfig', b'apiVersion: v1\nkind: Config\n')
    # A VM the registry never heard of, carrying the cluster's tag, and a node the registry lost.
    client = proxmox.client()
    settings = vm_ops.TaskSettings(timeout=60)
    vm_ops.clone(client, settings, 'pve2', 9001, 4321, 'demo-stray', 'pve2')
    vm_ops.configure(client, settings, 'pve2', 4321, {'tags': 'gpve-cluster-{0}'.format(cluster_id)})
    store.replace_nodes(cluster_id, [node for node in store.list_nodes(cluster_id) if node.name != 'demo-general-2'])
    events_before = len(store.list_events(cluster_id=cluster_id, limit=1000))

    check = service.run(request({'name': 'demo'}, state='absent', check_mode=True))
    assert check['changed'] is True
    assert sorted(vm['name'] for vm in check['plan']['delete']) == sorted(list(proxmox.tagged(cluster_id)))
    assert len(proxmox.tagged(cluster_id)) == 8

    result = service.run(request({'name': 'demo'}, state='absent'))
    assert result['changed'] is True and result['cluster']['phase'] == 'Deleted'
    assert proxmox.guests() == {}
    assert sorted(vm['vmid'] for vm in proxmox.state()['vms']) == [9000, 9001, 9002]
    gone = store.get_cluster(cluster_id, include_deleted=True)
    assert gone.deleted_at is not None and gone.status.phase == 'Deleted'
    assert store.find_cluster('demo') is None
    assert store.list_credentials(cluster_id=cluster_id) == []
    events = store.list_events(cluster_id=cluster_id, limit=1000)
    assert len(events) > events_before
    assert 'demo-stray' in ' '.join(e.message or '' for e in events)

    again = service.run(request({'name': 'demo'}, state='absent'))
    assert again['changed'] is False
