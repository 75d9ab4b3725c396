"""The Proxmox room against the testbed's fakepve: auth, TLS, tasks by UPID, retries, bulk reads."""

from __future__ import annotations

import pytest
from k8s_vm_support import connection

from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import errors, tasks, vm_ops
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox.client import ConnectionOptions, ProxmoxClient

pytestmark = pytest.mark.k8s_vm
SETTINGS = vm_ops.TaskSettings(timeout=60, retry=tasks.LockRetry(attempts=3, first_delay=0.1))


def clone(client, newid, name, tags=None):
    vm_ops.clone(client, SETTINGS, 'pve1', 9000, newid, name, 'pve1')
    if tags:
        vm_ops.configure(client, SETTINGS, 'pve1', newid, {'tags': tags})


def test_password_and_token_logins(proxmox):
    pve = proxmox.endpoint
    assert ProxmoxClient(connection(pve)).get('version')['version']
    token = ConnectionOptions(api_url=pve.url, api_token_id=pve.token_id, api_token_secret=pve.token_secret,
                              ca_path=pve.ca_path)
    assert [n['node'] for n in vm_ops.list_nodes(ProxmoxClient(token))] == ['pve1', 'pve2', 'pve3']


def test_wrong_password_and_wrong_token_are_auth_errors(proxmox):
    pve = proxmox.endpoint
    with pytest.raises(errors.ProxmoxAuthError):
        ProxmoxClient(ConnectionOptions(api_url=pve.url, api_user=pve.user, api_password='wrong', ca_path=pve.ca_path))
    bad_token = ProxmoxClient(ConnectionOptions(api_url=pve.url, api_token_id=pve.token_id, api_token_secret='nope',
                                                ca_path=pve.ca_path))
    with pytest.raises(errors.ProxmoxApiError) as caught:
        bad_token.get('version')
    assert caught.value.status == 401


def test_certificates_are_verified_by_default(proxmox):
    pve = proxmox.endpoint
    with pytest.raises(errors.ProxmoxConnectionError) as caught:
        ProxmoxClient(ConnectionOptions(api_url=pve.url, api_user=pve.user, api_password=pve.password))
    assert 'CERTIFICATE_VERIFY_FAILED' in str(caught.value)
    unverified = ConnectionOptions(api_url=pve.url, api_user=pve.user, api_password=pve.password, validate_certs=False)
    assert ProxmoxClient(unverified).get('version')


def test_an_expired_ticket_is_renewed_once_and_the_call_repeated(proxmox):
    client = proxmox.client()
    mark = proxmox.mark()
    proxmox.control.expire_tickets()
    assert len(vm_ops.list_nodes(client)) == 3
    seen = proxmox.requests_since(mark)
    assert [r[1].rsplit('/', 1)[-1] for r in seen] == ['resources', 'ticket', 'resources']


def test_clone_follows_the_upid_and_a_failed_task_shows_its_log(proxmox):
    client = proxmox.client()
    clone(client, 2000, 'plain')
    assert vm_ops.get_config(client, 'pve1', 2000)['name'] == 'plain'
    proxmox.control.fail_clone('pve1', 9000, message='clone failed: disk image is corrupt')
    with pytest.raises(errors.ProxmoxTaskError) as caught:
        clone(client, 2001, 'broken')
    assert caught.value.exitstatus == 'clone failed: disk image is corrupt'
    assert caught.value.log_tail[-1] == 'TASK ERROR: clone failed: disk image is corrupt'
    assert caught.value.upid.startswith('UPID:pve1:')


def test_a_task_still_running_at_the_timeout(proxmox):
    client = proxmox.client()
    clone(client, 2002, 'slow-start')
    proxmox.control.set_vm(2002, start_secs=10 ** 6)
    with pytest.raises(errors.ProxmoxTaskTimeout) as caught:
        vm_ops.start(client, vm_ops.TaskSettings(timeout=1), 'pve1', 2002)
    assert 'still running after 1s' in str(caught.value)


def test_lock_timeouts_back_off_and_give_up_with_pves_message(proxmox):
    client = proxmox.client()
    clone(client, 2003, 'locked')
    mark = proxmox.mark()
    proxmox.control.call('fail', 'POST', '/nodes/pve1/qemu/2003/config', error='config_lock_timeout')
    with pytest.raises(errors.ProxmoxApiError) as caught:
        vm_ops.configure(client, SETTINGS, 'pve1', 2003, {'cores': 2})
    assert caught.value.is_lock_timeout
    posts = [r for r in proxmox.requests_since(mark) if r[0] == 'POST']
    assert len(posts) == SETTINGS.retry.attempts


def test_a_held_config_lock_is_waited_out(proxmox):
    client = proxmox.client()
    clone(client, 2004, 'held')
    proxmox.control.hold_lock(2004, secs=100)  # 1 s of real time at the testbed's time scale
    vm_ops.configure(client, vm_ops.TaskSettings(timeout=60, retry=tasks.LockRetry(attempts=8, first_delay=0.25)),
                     'pve1', 2004, {'cores': 3})
    assert str(vm_ops.get_config(client, 'pve1', 2004)['cores']) == '3'


def test_find_by_tag_is_one_bulk_read(proxmox):
    client = proxmox.client()
    clone(client, 2005, 'a', tags='gpve-cluster-x1;gpve-role-worker')
    clone(client, 2006, 'b', tags='gpve-cluster-x2')
    clone(client, 2007, 'c', tags='other;gpve-cluster-x1')
    mark = proxmox.mark()
    found = vm_ops.find_by_tag(client, 'gpve-cluster-x1')
    assert sorted(vm['name'] for vm in found) == ['a', 'c']
    assert proxmox.requests_since(mark) == [['GET', '/api2/json/cluster/resources']]


def test_offline_node_and_lost_quorum_are_typed(proxmox):
    client = proxmox.client()
    proxmox.control.node_offline('pve3')
    with pytest.raises(errors.ProxmoxNodeUnreachable):
        client.get('nodes/pve3/qemu')
    proxmox.control.lose_quorum()
    assert vm_ops.is_quorate(client) is False
    with pytest.raises(errors.ProxmoxQuorumLost):
        clone(client, 2008, 'no-quorum')


def test_destroy_stops_a_running_vm_first(proxmox):
    client = proxmox.client()
    clone(client, 2009, 'doomed')
    vm_ops.start(client, SETTINGS, 'pve1', 2009)
    vm_ops.destroy(client, SETTINGS, 'pve1', 2009)
    assert 2009 not in [vm['vmid'] for vm in vm_ops.list_vms(client)]
