"""Progress while the guest agents boot: gpve_k8s_vm with wait: false asks each agent once and counts the VMs that
answer; a rerun writes only what is new, and the provisioning step of the playbooks reruns it (until/retries) so
every retry shows the count instead of one task silent for agent_timeout."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys

import pytest
import yaml
from k8s_vm_support import COLLECTIONS, REPO, registry_state, request, spec

pytestmark = pytest.mark.k8s_vm
NAMES = ['demo-cp-1', 'demo-w-1', 'demo-lb']
STEP = REPO / 'playbooks' / 'k8s_vm' / 'tasks' / 'provision_vms.yml'


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


def playbook(tmp_path, proxmox, registry_path):
    pve = proxmox.endpoint
    plays = [{'name': 'Provision with progress', 'hosts': 'localhost', 'gather_facts': False,
              'vars': {'gpve_cluster_name': 'demo', 'gpve_spec': three(), 'gpve_registry': registry_path,
                       'gpve_proxmox': {'api_url': pve.url, 'api_user': pve.user, 'api_password': pve.password,
                                        'ca_path': pve.ca_path},
                       'gpve_agent_retries': 40, 'gpve_agent_delay': 1},
              'tasks': [{'name': 'Provision', 'ansible.builtin.include_tasks': str(STEP)},
                        {'name': 'Show the VMs', 'ansible.builtin.debug': {'msg': 'VMS {{ gpve_vms.msg }} {{ gpve_vms.cluster.phase }}'}}]}]
    path = tmp_path / 'site.yml'
    path.write_text(yaml.safe_dump(plays))
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith('GPVE_PROXMOX_'))
    env.update(ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false', ANSIBLE_NOCOLOR='1',
               ANSIBLE_HOME=str(tmp_path / 'ansible-home'))
    env.pop('PYTHONPATH', None)
    playbook_bin = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')

    def run(*flags):
        done = subprocess.run([playbook_bin, '-i', 'localhost,', '-c', 'local', *flags, str(path)], env=env, cwd=str(REPO),
                              capture_output=True, text=True, timeout=900, check=False)
        assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
        return done.stdout
    return run


def test_the_playbook_step_retries_showing_the_count_and_a_rerun_converges(proxmox, registry_path, tmp_path):
    # The agents answer about 3 s after their VM starts: the first question finds none, the retries find them.
    proxmox.control.set('agent_boot_secs', 3.0 / proxmox.state()['time_scale'])
    run = playbook(tmp_path, proxmox, registry_path)

    out = run('-vvv')
    assert '"msg": "0/3 VMs answer"' in out  # the first task: VMs started, no agent up yet
    retries = re.findall(r'FAILED - RETRYING: \[localhost\]: Wait for the guest agents [^\n]*\(\d+ retries left\)', out)
    assert retries, out[-6000:]
    counts = [int(n) for n in re.findall(r'"msg": "(\d)/3 VMs answer"', out)]
    assert counts == sorted(counts) and counts[-1] == 3 and len(counts) >= 2 + len(retries)
    assert 'VMS 3/3 VMs answer Bootstrapping' in out

    # A rerun at default verbosity: every agent answers at the first question, nothing changes, no retry.
    again = run()
    assert 'FAILED - RETRYING' not in again and 'VMS 3/3 VMs answer Bootstrapping' in again
    assert re.search(r'localhost\s*: ok=\d+\s+changed=0\s', again), again[-3000:]
