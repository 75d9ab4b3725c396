"""Progress while the guest agents boot: gpve_k8s_vm with wait: false asks each agent once and counts the VMs that
answer; a rerun writes only what is new."""

from __future__ import annotations

import dataclasses

import pytest
from k8s_vm_support import registry_state, request, spec

pytestmark = pytest.mark.k8s_vm
NAMES = ['demo-cp-1', 'demo-w-1', 'demo-lb']


def three():
    """One control plane, one worker, the haproxy VM."""
    small = {'memory': 1024, 'disk_size': 20}
    return spec(control_plane={'replicas': 1, 'resources': small}, workers=[{'name': 'w', 'replicas': 1, 'resources': small}])


def no_wait(**kwargs):
    return dataclasses.replace(request(three(), **kwargs), wait=False)


def agent_questions(proxmox, mark):
    return [path for method, path in proxmox.requests_since(mark) if path.endswith('/agent/network-get-interfaces')]


def test_wait_false_counts_the_agents_and_reruns_write_only_what_is_new(service, proxmox, store):
    proxmox.control.set('agent_boot_secs', 10 ** 9)
    first = service.run(no_wait())
    assert first['changed'] and first['msg'] == '0/3 VMs answer'
    assert first['agents'] == {'answer': 0, 'total': 3, 'waiting': NAMES}
    assert first['cluster']['phase'] == 'Provisioning'
    assert [n['status'] for n in first['nodes']] == ['Pending'] * 3
    assert sorted(n for n, vm in proxmox.tagged(first['cluster']['id']).items() if vm['status'] == 'running') == sorted(NAMES)

    # Nothing new: the agents are asked again, nothing is written to Proxmox or the registry.
    before, writes, mark = registry_state(store), proxmox.writes(), proxmox.mark()
    again = service.run(no_wait())
    assert not again['changed'] and again['msg'] == '0/3 VMs answer'
    assert registry_state(store) == before and proxmox.writes() == writes
    assert len(agent_questions(proxmox, mark)) == 3

    # Check mode asks no agent and writes nothing.
    mark = proxmox.mark()
    checked = service.run(no_wait(check_mode=True))
    assert checked['agents']['waiting'] == [] and checked['msg'] == '0/3 VMs answer (check mode: no agent asked)'
    assert agent_questions(proxmox, mark) == [] and registry_state(store) == before and proxmox.writes() == writes

    guests = proxmox.guests()
    for name in ('demo-w-1', 'demo-lb'):
        proxmox.control.set_vm(guests[name]['vmid'], agent_down=True)
    proxmox.control.set('agent_boot_secs', 0)
    one = service.run(no_wait())
    assert one['changed'] and one['msg'] == '1/3 VMs answer' and one['agents']['waiting'] == ['demo-w-1', 'demo-lb']
    assert one['cluster']['phase'] == 'Provisioning'
    assert dict((n.name, n.status) for n in store.list_nodes(one['cluster']['id']))['demo-cp-1'] == 'Running'

    for name in ('demo-w-1', 'demo-lb'):
        proxmox.control.set_vm(guests[name]['vmid'], agent_down=False)
    done = service.run(no_wait())
    assert done['changed'] and done['msg'] == '3/3 VMs answer' and done['agents']['waiting'] == []
    assert done['cluster']['phase'] == 'Bootstrapping'
    assert [n['status'] for n in done['nodes']] == ['Running'] * 3

    # Converged: the agents that answered are not asked again, nothing is written.
    before, writes, mark = registry_state(store), proxmox.writes(), proxmox.mark()
    last = service.run(no_wait())
    assert not last['changed'] and last['msg'] == '3/3 VMs answer'
    assert registry_state(store) == before and proxmox.writes() == writes and agent_questions(proxmox, mark) == []


def test_a_vm_whose_agent_never_answered_is_asked_again_when_waiting(service, proxmox, store):
    """wait: true after a wait: false run waits for the agents still pending instead of taking the planned address."""
    proxmox.control.set('agent_boot_secs', 10 ** 9)
    assert service.run(no_wait())['agents']['waiting'] == NAMES
    proxmox.control.set('agent_boot_secs', 0)
    mark = proxmox.mark()
    waited = service.run(request(three()))
    assert waited['msg'] == '3/3 VMs answer' and waited['cluster']['phase'] == 'Bootstrapping'
    assert len(agent_questions(proxmox, mark)) >= 3

