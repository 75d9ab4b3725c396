"""Faults injected through the testbed's fakepve control channel."""

from __future__ import annotations

import pytest
from k8s_vm_support import registry_state, request, spec

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError, ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox.errors import GuestAgentTimeout

pytestmark = pytest.mark.k8s_vm
LOCK_TIMEOUT = "can't lock file '/var/lock/qemu-server/lock-{0}.conf' - got timeout"


def small(**overrides):
    """One control plane, no workers, no load balancer VM: the shortest cluster."""
    raw = spec(control_plane={'replicas': 1, 'resources': {'memory': 1024, 'disk_size': 20}}, workers=[],
               load_balancer={'type': 'kube-vip', 'virtual_ip': '10.20.0.5'})
    raw.update(overrides)
    return raw


def test_clone_task_error_fails_with_the_task_log_then_a_rerun_finishes(service, proxmox, store):
    proxmox.control.fail_clone('pve2', 9001, message='clone failed: rbd error: storage full', times=1)
    with pytest.raises(GpveError) as caught:
        service.run(request(spec()))
    message = str(caught.value)
    assert 'demo-cp-2' in message and 'clone failed' in message
    assert 'TASK ERROR: clone failed: rbd error: storage full' in message
    cluster = store.find_cluster('demo')
    assert cluster.status.phase == 'Failed' and 'rbd error' in cluster.status.message
    assert 'demo-cp-2' not in proxmox.tagged(cluster.id)
    warnings = [e for e in store.list_events(cluster_id=cluster.id) if e.type == 'Warning']
    assert warnings and 'storage full' in warnings[0].message

    result = service.run(request(spec()))
    assert result['cluster']['phase'] == 'Bootstrapping'
    assert result['plan']['create'] == ['demo-cp-2']
    assert len(proxmox.tagged(cluster.id)) == 7


def test_lock_timeouts_are_retried_until_the_lock_is_free(service, proxmox):
    # Planned: demo-cp-1 is VMID 1000 on pve1. Two answers with PVE's lock error, then the lock is free.
    mark = proxmox.mark()
    proxmox.control.call('fail', 'POST', '/nodes/pve1/qemu/1000/config', error='config_lock_timeout', times=2)
    proxmox.control.call('fail_task', 'POST', '/nodes/pve1/qemu/1000/status/start', LOCK_TIMEOUT.format(1000), times=1)
    result = service.run(request(small()))
    assert result['cluster']['phase'] == 'Bootstrapping'
    posts = [path for method, path in proxmox.requests_since(mark) if method == 'POST']
    assert posts.count('/api2/json/nodes/pve1/qemu/1000/status/start') == 2
    assert posts.count('/api2/json/nodes/pve1/qemu/1000/config') >= 3
    assert proxmox.guests()['demo-cp-1']['status'] == 'running'


def test_an_offline_node_is_avoided_or_named(service, proxmox, store):
    proxmox.control.node_offline('pve2')
    writes = proxmox.writes()
    with pytest.raises(ValidationError) as caught:
        service.run(request(spec()))
    assert caught.value.field == 'control_plane.placement'
    assert 'pve2 is offline' in str(caught.value)
    assert proxmox.writes() == writes and registry_state(store)['clusters'] == []

    result = service.run(request(small(workers=[{'name': 'w', 'replicas': 3, 'resources': {'memory': 1024,
                                                                                           'disk_size': 20}}])))
    assert result['cluster']['phase'] == 'Bootstrapping'
    assert 'pve2' not in set(n['proxmox_node'] for n in result['nodes'])


def test_lost_quorum_fails_before_any_write(service, proxmox, store):
    proxmox.control.lose_quorum()
    writes = proxmox.writes()
    with pytest.raises(ValidationError) as caught:
        service.run(request(spec()))
    assert 'lost quorum' in str(caught.value)
    assert proxmox.writes() == writes
    assert registry_state(store)['clusters'] == []


def test_an_expired_ticket_means_a_fresh_login(service, proxmox):
    mark = proxmox.mark()
    assert service.client.get('version')['version']
    proxmox.control.expire_tickets()
    result = service.run(request(small()))
    assert result['cluster']['phase'] == 'Bootstrapping'
    logins = [path for method, path in proxmox.requests_since(mark) if path.endswith('/access/ticket')]
    assert len(logins) == 2


def test_a_guest_agent_that_never_answers_times_out_naming_the_vm(service, proxmox, store):
    proxmox.control.set('agent_boot_secs', 10 ** 9)
    with pytest.raises(GuestAgentTimeout) as caught:
        service.run(request(small(), agent_timeout=2))
    assert 'demo-cp-1' in str(caught.value) and 'guest agent' in str(caught.value)
    cluster = store.find_cluster('demo')
    assert cluster.status.phase == 'Failed' and 'demo-cp-1' in cluster.status.message


def test_an_address_claimed_by_another_cluster_while_planning(service, proxmox, store):
    """Two runs planning at once: the registry lets only one claim an address."""
    from ansible_collections.gpve.cluster.plugins.module_utils.k8s_vm import recorder

    spec_now, _view, _env, planned = service.plan(request(spec()))
    other = store.create_cluster('other', 'k8s-vm', spec={'distribution': 'k3s', 'kubernetes_version': '1.37.2'})
    store.upsert_nodes(other.id, [{'name': 'other-1', 'role': 'worker', 'status': 'Running',
                                   'ip_address': planned.vms[2].ip}], exclusive_ips=True)
    record = recorder.Recorder(store)
    record.register(spec_now)
    with pytest.raises(ValidationError) as caught:
        record.reserve(spec_now, planned)
    assert caught.value.field == 'network.vm_network.ip_range'
    assert planned.vms[2].ip in str(caught.value) and 'cluster other' in str(caught.value)
    assert store.list_nodes(record.cluster_id) == []


def test_talos_vms_run_no_guest_agent_and_keep_their_planned_addresses(service, proxmox, store):
    """Talos' nocloud image has no guest agent: the run takes the static addresses instead of waiting for one."""
    proxmox.control.set('agent_boot_secs', 10 ** 9)
    result = service.run(request(small(distribution={'type': 'talos'}), agent_timeout=2))
    assert result['cluster']['phase'] == 'Bootstrapping'
    assert all(node['status'] == 'Running' and node['ip'] for node in result['nodes'])


def test_talos_with_dhcp_and_no_guest_agent_is_refused_before_any_write(service, proxmox, store):
    mark = proxmox.mark()
    raw = small(distribution={'type': 'talos'}, network={'vm_network': {'ip_allocation': 'dhcp'}})
    with pytest.raises(ValidationError) as caught:
        service.run(request(raw))
    assert caught.value.field == 'network.vm_network.ip_allocation' and 'guest_agent' in str(caught.value)
    writes = [r for r in proxmox.requests_since(mark) if r[0] != 'GET' and not r[1].endswith('/access/ticket')]
    assert writes == [] and registry_state(store)['clusters'] == []
