"""Per-VM cloud-init settings in PVE's keys."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.planner import cloud_init, spec as specs

pytestmark = pytest.mark.k8s_vm
KEYS = ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA me@laptop', 'ssh-rsa AAAAB3Nza+/= ops@host']


def spec_with(vm_network):
    return specs.normalise({'name': 'x', 'network': {'vm_network': vm_network},
                            'ssh': {'user': 'ops', 'public_keys': KEYS}})


def test_static_address_with_gateway_and_resolvers():
    spec = spec_with({'ip_allocation': 'static', 'ip_range': {'start': '10.0.0.10', 'end': '10.0.0.20'},
                      'prefix': 24, 'gateway': '10.0.0.1', 'dns': ['10.0.0.2', '10.0.0.3'],
                      'search_domain': 'lab.example'})
    got = cloud_init.settings(spec, '10.0.0.11')
    assert got['ipconfig0'] == 'ip=10.0.0.11/24,gw=10.0.0.1'
    assert got['nameserver'] == '10.0.0.2 10.0.0.3'
    assert got['searchdomain'] == 'lab.example'
    assert got['ciuser'] == 'ops'


def test_sshkeys_are_url_encoded_every_character_but_alphanumerics():
    got = cloud_init.settings(spec_with({}), None)['sshkeys']
    assert ' ' not in got and '+' not in got and '/' not in got and '=' not in got and '@' not in got
    assert unquote(got) == '\n'.join(KEYS) + '\n'


def test_dhcp_asks_for_a_lease_and_cloud_init_mode_leaves_the_template_alone():
    assert cloud_init.settings(spec_with({'ip_allocation': 'dhcp'}), None)['ipconfig0'] == 'ip=dhcp'
    assert 'ipconfig0' not in cloud_init.settings(spec_with({'ip_allocation': 'cloud-init'}), None)


def test_no_keys_no_sshkeys():
    spec = specs.normalise({'name': 'x'})
    assert 'sshkeys' not in cloud_init.settings(spec, None)


def test_first_boot_package_upgrade_is_off():
    """PVE's default (ciupgrade=1) runs apt at first boot, racing the roles for the dpkg lock."""
    assert cloud_init.settings(spec_with({}), None)['ciupgrade'] == 0
