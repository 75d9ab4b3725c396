"""A run that fails after it wrote something says so: changed, what it made, how to resume (the real module)."""

from __future__ import annotations

import pytest
from k8s_vm_support import spec

pytestmark = pytest.mark.k8s_vm


def test_a_failed_clone_after_others_were_made_reports_changed_with_what_was_made(module, proxmox, store):
    proxmox.control.fail_clone('pve2', 9001, message='clone failed: rbd error: storage full', times=1)
    failed = module.run(spec())
    assert failed['failed'] is True and failed['changed'] is True
    assert 'clone failed' in failed['msg'] and 'demo-cp-2' in failed['msg']
    made = failed['made']
    assert made['cluster']['name'] == 'demo' and made['cluster']['phase'] == 'Failed'
    statuses = dict((vm['name'], vm['status']) for vm in made['vms'])
    assert statuses['demo-cp-2'] != 'Running' and statuses['demo-cp-1'] == 'Running'
    assert set(statuses) == set(proxmox.tagged(made['cluster']['id'])) | {'demo-cp-2'}
    assert failed['resume'].startswith('fix the cause named above, then run the same task again')
    on_proxmox = proxmox.tagged(made['cluster']['id'])
    assert sorted((vm['name'], vm['vmid']) for vm in made['exists']) == sorted(
        (name, vm['vmid']) for name, vm in on_proxmox.items())
    assert made['missing'] == ['demo-cp-2'] and 'demo-cp-2' not in on_proxmox
    for name, vm in on_proxmox.items():
        assert '{0} (vmid {1})'.format(name, vm['vmid']) in failed['msg']
    assert 'Not made: demo-cp-2.' in failed['msg'] and failed['resume'].rstrip('.') in failed['msg']

    resumed = module.run(spec())
    assert resumed.get('failed') is not True, resumed.get('msg')
    assert resumed['changed'] is True and resumed['plan']['create'] == ['demo-cp-2']
    assert resumed['cluster']['phase'] == 'Bootstrapping'


def test_a_failure_before_any_write_reports_nothing_changed(module, proxmox, store):
    proxmox.control.lose_quorum()
    refused = module.run(spec())
    assert refused['failed'] is True and not refused.get('changed') and 'made' not in refused
    assert store.find_cluster('demo') is None
