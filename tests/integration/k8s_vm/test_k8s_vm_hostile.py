"""gpve_k8s_vm run as Ansible runs it, against the testbed's fakepve and a real SQLite registry, with hostile
arguments: each run fails, names the field, and writes nothing - no registry row, no Proxmox request that is not
a read (no VM cloned), and no secret of the arguments in its answer."""

from __future__ import annotations

import copy

import pytest
from k8s_vm_support import spec

from tests.integration.security.hostile_support import registry_rows

pytestmark = pytest.mark.k8s_vm

SECRET = 'hunter2-k8s-vm'


def _nested(leaf, width, depth):
    """What a YAML alias bomb becomes once Ansible expands it: width**depth copies of leaf."""
    value = leaf
    for _level in range(depth):
        value = [value] * width
    return value


def _in(path, value):
    """A change setting path (dotted, list indexes as digits) in a spec() to value."""
    def change(raw):
        node = raw
        keys = path.split('.')
        for key in keys[:-1]:
            node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
        node[int(keys[-1]) if keys[-1].isdigit() else keys[-1]] = value
        return raw
    return change


# (id, change to spec(), extra module arguments, field named)
CASES = [
    ('vmid-start-negative', None, {'vmid_start': -5}, 'vmid_start'),
    ('vmid-start-zero', None, {'vmid_start': 0}, 'vmid_start'),
    ('vmid-start-reserved', None, {'vmid_start': 99}, 'vmid_start'),
    ('vmid-start-huge', None, {'vmid_start': 10 ** 10}, 'vmid_start'),
    ('vmid-start-text', None, {'vmid_start': 'first-free'}, 'vmid_start'),
    ('agent-timeout-negative', None, {'agent_timeout': -1}, 'agent_timeout'),
    ('agent-timeout-zero', None, {'agent_timeout': 0}, 'agent_timeout'),
    ('agent-timeout-huge', None, {'agent_timeout': 10 ** 9}, 'agent_timeout'),
    ('task-timeout-zero', None, {'task_timeout': 0}, 'task_timeout'),
    ('task-timeout-negative', None, {'task_timeout': -100}, 'task_timeout'),
    ('parallel-node-zero', None, {'max_parallel_per_node': 0}, 'max_parallel_per_node'),
    ('parallel-storage-zero', None, {'max_parallel_per_storage': 0}, 'max_parallel_per_storage'),
    ('parallel-node-huge', None, {'max_parallel_per_node': 10 ** 6}, 'max_parallel_per_node'),
    ('api-timeout-negative', None, {'api_timeout': -3}, 'api_timeout'),
    ('name-shell', _in('name', 'a;rm -rf /'), {}, 'name'),
    ('name-traversal', _in('name', '../etc'), {}, 'name'),
    ('name-substitution', _in('name', '$(reboot)'), {}, 'name'),
    ('name-empty', _in('name', ''), {}, 'name'),
    ('name-unicode', _in('name', 'd\u00e9mo'), {}, 'name'),
    ('name-huge', _in('name', 'x' * 10000), {}, 'name'),
    ('disk-size-huge', _in('control_plane.resources.disk_size', 10 ** 9), {}, 'control_plane.resources.disk_size'),
    ('cores-huge', _in('workers.0.resources.cores', 10 ** 6), {}, 'workers[0].resources.cores'),
    ('memory-huge', _in('control_plane.resources.memory', 10 ** 12), {}, 'control_plane.resources.memory'),
    ('replicas-huge', _in('workers.0.replicas', 10 ** 6), {}, 'workers[0].replicas'),
    ('pool-name-traversal', _in('workers.0.name', '../../x'), {}, 'workers[0].name'),
    ('addons-alias-bomb', _in('addons', {'values': _nested('lol' * 20, 40, 3)}), {}, 'addons'),
    ('distribution-config-alias-bomb', _in('distribution', {'type': 'kubeadm', 'config': {'x': _nested('a' * 50, 20, 3)}}),
     {}, 'distribution.config'),
    ('cluster-label-key', _in('labels', {'bad key!': 'x'}), {}, 'labels'),
    ('cluster-label-value', _in('labels', {'team': 'v' * 100}), {}, 'labels.team'),
    ('pod-cidr-injection', _in('network.pod_cidr', '10.244.0.0/16; rm -rf /'), {}, 'network.pod_cidr'),
    ('ssh-key-newline', _in('ssh.public_keys', ['ssh-ed25519 AAAAC3Nz\nrm -rf /']), {}, 'ssh.public_keys[0]'),
    ('ssh-user-shell', _in('ssh.user', 'root; id'), {}, 'ssh.user'),
    ('version-injection', _in('kubernetes_version', '1.35.0; curl x | sh'), {}, 'kubernetes_version'),
    ('unknown-option', None, {'bogus': True}, 'bogus'),
    ('unknown-spec-key', _in('control_plane.bogus', 1), {}, 'control_plane.bogus'),
    ('registry-mysql', None, {'registry': 'mysql://root:' + SECRET + '@db/gpve'}, 'registry'),
    ('api-url-credentials', None, {'api_url': 'https://root:' + SECRET + '@127.0.0.1:8006'}, 'api_url'),
    ('api-url-http', None, {'api_url': 'http://127.0.0.1:8006'}, 'api_url'),
]


@pytest.mark.parametrize('change,extra,field', [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_argument_fails_naming_the_field_and_writes_nothing(module, proxmox, registry_path, change, extra, field):
    raw = change(copy.deepcopy(spec())) if change else spec()
    writes, rows = proxmox.writes(), registry_rows(registry_path)
    result = module.run(raw, **extra)
    assert result.get('failed'), result
    assert field in result['msg'] or result.get('field') == field, result['msg']
    if result.get('field') is not None:
        assert result['field'] == field
    assert proxmox.writes() == writes
    assert registry_rows(registry_path) == rows
    assert SECRET not in repr(result)
