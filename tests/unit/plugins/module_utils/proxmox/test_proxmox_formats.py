"""PVE value formats."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import formats, tasks, vm_ops
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox.errors import ProxmoxError

pytestmark = pytest.mark.k8s_vm


def test_tags_split_on_every_separator_pve_accepts():
    assert formats.split_tags('b;A,c d') == ['b', 'a', 'c', 'd']
    assert formats.join_tags(['b', 'a', 'b']) == 'a;b'


@pytest.mark.parametrize('text,size', [('10G', 10 * 1024 ** 3), ('512M', 512 * 1024 ** 2), ('32', 32 * 1024 ** 3),
                                       ('1.5T', int(1.5 * 1024 ** 4))])
def test_sizes(text, size):
    assert formats.size_bytes(text) == size


def test_disk_size_of_a_drive():
    assert formats.disk_size_bytes('local-lvm:vm-1-disk-0,discard=on,size=20G') == 20 * 1024 ** 3
    assert formats.disk_size_bytes('local-lvm:vm-1-disk-0') is None


def test_net_value_keeps_model_mac_and_options():
    current = 'virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=0'
    assert formats.net_value(current, 'vmbr1', 20) == 'virtio=BC:24:11:00:00:01,bridge=vmbr1,tag=20,firewall=0'
    assert formats.net_value(None, 'vmbr0') == 'virtio,bridge=vmbr0'
    assert formats.net_settings('virtio=AA,bridge=vmbr1,tag=7') == ('vmbr1', 7)


def test_upid_node_and_success_rule():
    assert tasks.upid_node('UPID:pve2:00001:0002:0003:qmclone:9000:root@pam:') == 'pve2'
    with pytest.raises(ProxmoxError):
        tasks.upid_node('not-a-upid')
    assert tasks.task_succeeded('OK') and tasks.task_succeeded('WARNINGS: 1')
    assert not tasks.task_succeeded("can't lock file")


def test_agent_addresses_leave_out_loopback_link_local_and_ipv6():
    answer = {'result': [
        {'name': 'lo', 'ip-addresses': [{'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4'}]},
        {'name': 'eth0', 'ip-addresses': [{'ip-address': '169.254.1.1', 'ip-address-type': 'ipv4'},
                                          {'ip-address': '10.0.0.5', 'ip-address-type': 'ipv4'},
                                          {'ip-address': 'fe80::1', 'ip-address-type': 'ipv6'}]}]}
    assert vm_ops.agent_ipv4(answer) == ['10.0.0.5']


def test_lock_retry_delays_back_off_to_a_ceiling():
    assert list(tasks.LockRetry(attempts=6, first_delay=1, max_delay=4).delays()) == [1, 2, 4, 4, 4]
