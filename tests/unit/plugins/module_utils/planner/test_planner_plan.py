"""The whole plan and its diff against the VMs that exist."""

from __future__ import annotations

import pytest
from k8s_vm_planner_helpers import existing, make_env, small_spec

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.planner import naming, plan, spec as specs, vm_config

pytestmark = pytest.mark.k8s_vm
CLUSTER_ID = 'c0ffee'


def build(raw=None, env=None, **kwargs):
    return plan.build(specs.normalise(raw or small_spec()), CLUSTER_ID, env or make_env(), **kwargs)


def converged(vm, status='running', extra_tags=()):
    """The config a fully provisioned VM of the plan has."""
    config = dict(vm.hardware(), **vm.cloud_init)
    config.update(name=vm.name, agent='1', net0='virtio=BC:24:11:00:00:02,bridge=vmbr0',
                  tags=';'.join(vm.tags + list(extra_tags)),
                  description=naming.description(CLUSTER_ID, 'demo', vm.role, vm.settings_hash()))
    config[vm.root_disk] = 'local-lvm:vm-{0}-disk-0,size={1}G'.format(vm.vmid, vm.disk_size)
    for disk in vm.additional_disks:
        config[disk['key']] = '{0}:vm-{1}-disk-1,size={2}G'.format(disk['storage'], vm.vmid, disk['size'])
    return existing(vm.vmid, vm.name, vm.proxmox_node, config, status=status, tags=vm.tags)


def test_names_vmids_addresses_and_nodes():
    got = build()
    assert [(vm.name, vm.vmid, vm.ip, vm.proxmox_node) for vm in got.vms] == [
        ('demo-cp-1', 1000, '10.20.0.10', 'pve1'), ('demo-cp-2', 1001, '10.20.0.11', 'pve2'),
        ('demo-cp-3', 1002, '10.20.0.12', 'pve3'), ('demo-general-1', 1003, '10.20.0.13', 'pve1'),
        ('demo-general-2', 1004, '10.20.0.14', 'pve2'), ('demo-storage-1', 1005, '10.20.0.15', 'pve3'),
        ('demo-lb', 1006, '10.20.0.16', 'pve1')]
    assert got.create == [vm.name for vm in got.vms]
    assert got.endpoint == 'https://10.20.0.5:6443'


def test_each_vm_clones_the_template_on_its_own_node():
    got = build()
    assert [(vm.proxmox_node, vm.template_node, vm.template_vmid) for vm in got.vms[:3]] == [
        ('pve1', 'pve1', 9000), ('pve2', 'pve2', 9001), ('pve3', 'pve3', 9002)]


def test_roles_pools_tags_and_added_disks():
    got = build()
    storage = got.vm('demo-storage-1')
    assert (storage.role, storage.pool) == ('worker', 'storage')
    assert storage.tags == ['gpve-cluster-c0ffee', 'gpve-pool-storage', 'gpve-role-worker']
    assert storage.additional_disks == [{'key': 'scsi1', 'size': 30, 'storage': 'local-lvm'}]
    assert got.vm('demo-lb').tags == ['gpve-cluster-c0ffee', 'gpve-role-lb']


def test_the_same_inputs_give_the_same_plan():
    assert build().as_dict() == build().as_dict()


def test_vmids_skip_ids_in_use_and_start_where_asked():
    got = build(env=make_env(used=[1000, 1002]), options=plan.Options(vmid_start=1000))
    assert [vm.vmid for vm in got.vms[:3]] == [1001, 1003, 1004]
    assert build(options=plan.Options(vmid_start=5000)).vms[0].vmid == 5000


def test_reserved_vmids_and_taken_addresses_of_other_clusters_are_avoided():
    got = build(taken_ips={'10.20.0.10'}, reserved_vmids={1000})
    assert (got.vms[0].vmid, got.vms[0].ip) == (1001, '10.20.0.11')


def test_a_converged_cluster_plans_no_change():
    first = build()
    again = build(env=make_env(cluster_vms=[converged(vm) for vm in first.vms]))
    assert not again.changes_anything
    assert again.unchanged == [vm.name for vm in first.vms]
    assert again.as_dict()['vms'] == first.as_dict()['vms']


def test_a_stopped_vm_is_started_and_a_stale_one_updated():
    first = build()
    vms = [converged(vm) for vm in first.vms]
    vms[0].status = 'stopped'
    vms[1].config['description'] = 'hand edited'
    vms[1].config['memory'] = '512'
    again = build(env=make_env(cluster_vms=vms))
    assert again.start == ['demo-cp-1']
    assert again.update == {'demo-cp-2': ['memory']}


def test_scale_up_adds_the_next_indexes_and_scale_down_removes_the_highest():
    first = build()
    vms = [converged(vm) for vm in first.vms]
    raw = small_spec()
    raw['workers'][0]['replicas'] = 4
    up = build(raw, env=make_env(cluster_vms=vms))
    assert up.create == ['demo-general-3', 'demo-general-4']
    raw['workers'][0]['replicas'] = 1
    down = build(raw, env=make_env(cluster_vms=vms))
    assert down.create == [] and [vm.name for vm in down.delete] == ['demo-general-2']


def test_removing_a_pool_deletes_its_vms_and_existing_vms_keep_vmid_ip_and_node():
    first = build()
    vms = [converged(vm) for vm in first.vms]
    raw = small_spec()
    raw['workers'] = raw['workers'][:1]
    got = build(raw, env=make_env(cluster_vms=vms))
    assert [vm.name for vm in got.delete] == ['demo-storage-1']
    assert got.vm('demo-lb').ip == '10.20.0.16' and got.vm('demo-lb').vmid == 1006


def test_address_of_an_existing_vm_comes_from_its_ipconfig():
    first = build()
    vms = [converged(vm) for vm in first.vms[:1]]
    vms[0].config['ipconfig0'] = 'ip=10.20.0.30/24,gw=10.20.0.1'
    assert build(env=make_env(cluster_vms=vms)).vm('demo-cp-1').ip == '10.20.0.30'


def test_two_tagged_vms_with_one_name_is_an_error():
    first = build()
    one, two = converged(first.vms[0]), converged(first.vms[0])
    two.vmid = 4242
    with pytest.raises(ValidationError) as caught:
        build(env=make_env(cluster_vms=[one, two]))
    assert '4242' in str(caught.value)


def test_disk_smaller_than_the_template_disk_is_refused():
    raw = small_spec()
    raw['control_plane']['resources']['disk_size'] = 5
    with pytest.raises(ValidationError) as caught:
        build(raw)
    assert caught.value.field == 'control_plane.resources.disk_size'


def test_storage_option_must_exist_on_the_node():
    with pytest.raises(ValidationError) as caught:
        build(options=plan.Options(storage='nfs'))
    assert caught.value.field == 'storage'


def test_dhcp_plans_no_addresses_and_the_endpoint_is_the_vip():
    raw = small_spec()
    raw['network'] = {'vm_network': {'ip_allocation': 'dhcp', 'prefix': 24, 'gateway': '10.20.0.1'}}
    got = build(raw)
    assert all(vm.ip is None for vm in got.vms)
    assert got.vms[0].cloud_init['ipconfig0'] == 'ip=dhcp'


def test_kube_vip_runs_without_a_load_balancer_vm():
    raw = small_spec(load_balancer={'type': 'kube-vip', 'virtual_ip': '10.20.0.5'})
    assert 'demo-lb' not in [vm.name for vm in build(raw).vms]


def test_config_changes_keep_the_mac_and_foreign_tags():
    vm = build().vms[0]
    config = converged(vm, extra_tags=['backup']).config
    config['net0'] = 'virtio=BC:24:11:AA:BB:CC,bridge=vmbr1,firewall=1'
    changes = vm_config.config_changes(vm, config)
    assert changes == {'net0': 'virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=1'}


def test_disk_changes_grow_the_root_disk_and_add_missing_disks():
    vm = build().vm('demo-storage-1')
    config = {'scsi0': 'local-lvm:vm-1005-disk-0,size=10G'}
    assert vm_config.disk_changes(vm, config) == (20, {'scsi1': 'local-lvm:30'})
    config['scsi0'] = 'local-lvm:vm-1005-disk-0,size=20G'
    config['scsi1'] = 'local-lvm:vm-1005-disk-1,size=30G'
    assert vm_config.disk_changes(vm, config) == (None, {})
