"""Faults of shared Proxmox use, through the testbed's fakepve: a VMID taken between planning and cloning is
re-planned (and a Failed row never records another cluster's VMID); three DHCP clusters created at once all
finish with distinct VMIDs; reads survive dropped connections and 503 answers (urllib3 Retry), writes are never
sent twice."""

from __future__ import annotations

import json
import logging

import pytest
from k8s_vm_support import request, spec

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError

pytestmark = pytest.mark.k8s_vm

TAKEN = 'unable to create VM {0}: config file already exists'


def one_vm(name='demo', **overrides):
    """One control plane behind an external load balancer, DHCP addresses: one VM."""
    raw = spec(name, control_plane={'replicas': 1, 'resources': {'memory': 1024, 'disk_size': 20}}, workers=[],
               load_balancer={'type': 'external', 'external_address': 'api.{0}.example'.format(name)},
               network={'vm_network': {'ip_allocation': 'dhcp'}})
    raw.update(overrides)
    return raw


def planned_clone(service, raw):
    """(vmid, clone path) the plan of raw gives its one VM."""
    vm = service.run(request(raw, check_mode=True))['plan']['vms'][0]
    return vm['vmid'], '/nodes/{0}/qemu/{1}/clone'.format(vm['template_node'], vm['template_vmid'])


def test_a_vmid_taken_after_planning_is_replanned_and_recorded(service, proxmox, store):
    vmid, clone = planned_clone(service, one_vm())
    proxmox.control.call('fail', 'POST', clone, 500, TAKEN.format(vmid), times=1)
    result = service.run(request(one_vm()))
    assert result['cluster']['phase'] == 'Bootstrapping'
    node = result['nodes'][0]
    assert node['vmid'] == vmid + 1
    assert proxmox.guests()['demo-cp-1']['vmid'] == vmid + 1
    cluster = store.find_cluster('demo')
    assert [n.vmid for n in store.list_nodes(cluster.id)] == [str(vmid + 1)]
    assert any(e.reason == 'VMIDReplanned' for e in store.list_events(cluster_id=cluster.id))


def test_a_failed_row_never_holds_a_vmid_the_cluster_does_not_own(service, proxmox, store):
    vmid, clone = planned_clone(service, one_vm())
    proxmox.control.call('fail', 'POST', clone, 500, TAKEN.format(vmid))  # every attempt: another run keeps winning
    with pytest.raises(GpveError) as caught:
        service.run(request(one_vm()))
    assert 'already exists' in str(caught.value)
    cluster = store.find_cluster('demo')
    assert cluster.status.phase == 'Failed'
    assert [n.vmid for n in store.list_nodes(cluster.id)] == [None]
    assert 'demo-cp-1' not in proxmox.guests()


def test_three_dhcp_clusters_created_at_once_all_finish_with_distinct_vmids(module, proxmox, store):
    runs = [module.start(one_vm(name)) for name in ('alpha', 'beta', 'gamma')]
    results = [module_result(run) for run in runs]
    for result in results:
        assert not result.get('failed'), result.get('msg')
        assert result['cluster']['phase'] == 'Bootstrapping'
    vmids = [result['nodes'][0]['vmid'] for result in results]
    assert len(set(vmids)) == 3
    guests = proxmox.guests()
    for name, vmid in zip(('alpha', 'beta', 'gamma'), vmids):
        assert guests['{0}-cp-1'.format(name)]['vmid'] == vmid
        cluster = store.find_cluster(name)
        assert [n.vmid for n in store.list_nodes(cluster.id)] == [str(vmid)]


def module_result(process):
    out, err = process.communicate(timeout=900)
    try:
        return json.loads(out)
    except ValueError:
        raise AssertionError('module printed no JSON (rc {0}): {1} {2}'.format(process.returncode, out, err)) from None


def test_a_plan_read_through_dropped_connections_is_the_same_plan(service, proxmox, caplog):
    calm = service.run(request(spec(), check_mode=True))['plan']
    mark = proxmox.mark()
    caplog.set_level(logging.WARNING, logger='urllib3.connectionpool')
    proxmox.control.call('flaky_network', drop_rate=0.2, seed=7)
    try:
        # A plan makes about ten reads, so about one in ten loses no connection at all: plan again until one did.
        plans_read = 0
        while plans_read < 5 and 'Retrying' not in caplog.text:
            plans_read += 1
            assert service.run(request(spec(), check_mode=True))['plan'] == calm
    finally:
        proxmox.control.call('flaky_network', drop_rate=0.0)
    assert 'Retrying' in caplog.text and 'connection broken' in caplog.text, f'no connection dropped in {plans_read} plans'
    assert not [r for r in proxmox.requests_since(mark) if r[0] != 'GET' and not r[1].endswith('/access/ticket')]


def test_task_status_polls_answered_503_are_retried_and_the_run_finishes_with_one_clone(service, proxmox, store):
    mark = proxmox.mark()
    proxmox.control.call('fail', 'GET', '/status', 503, 'Service Unavailable', times=4)
    result = service.run(request(one_vm()))
    assert result['cluster']['phase'] == 'Bootstrapping'
    posts = [path for method, path in proxmox.requests_since(mark) if method == 'POST' and path.endswith('/clone')]
    assert len(posts) == 1
    polls = [path for method, path in proxmox.requests_since(mark) if method == 'GET' and '/tasks/' in path]
    assert len(polls) >= 5


def test_a_run_that_wrote_before_failing_and_its_rerun_both_report_changed(module, proxmox):
    proxmox.control.set('agent_boot_secs', 10 ** 9)
    failed = module.run(one_vm(), agent_timeout=2)
    assert failed.get('failed') and 'guest agent' in failed['msg']
    assert failed['changed'] is True  # registered, phases, a VM cloned: the failure does not hide the writes
    proxmox.control.set('agent_boot_secs', 0)
    rerun = module.run(one_vm())
    assert not rerun.get('failed'), rerun.get('msg')
    assert rerun['changed'] is True and rerun['cluster']['phase'] == 'Bootstrapping'
    again = module.run(one_vm())
    assert again['changed'] is False
