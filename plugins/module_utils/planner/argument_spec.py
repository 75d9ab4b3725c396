# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument-spec pieces of a VM's spec, shared by the modules that plan VMs (gpve_k8s_vm, gpve_vcluster with
isolation_mode vm): a VM's resources and its network, as planner/spec.py reads them.
"""

from __future__ import annotations


def _dict(**options):
    return dict(type='dict', options=options)


def resources_spec():
    """cores, sockets, memory (MB), disk_size (GB), cpu_type, numa."""
    return _dict(cores=dict(type='int'), sockets=dict(type='int'), memory=dict(type='int'),
                 disk_size=dict(type='int'), cpu_type=dict(type='str'), numa=dict(type='bool'))


def vm_network_spec():
    """The VMs' network: bridge, VLAN, how addresses are given and the static range."""
    return _dict(bridge=dict(type='str'), vlan=dict(type='int'),
                 ip_allocation=dict(type='str', choices=['dhcp', 'static', 'cloud-init']),
                 ip_range=_dict(start=dict(type='str'), end=dict(type='str')),
                 prefix=dict(type='int'), gateway=dict(type='str'), dns=dict(type='list', elements='str'),
                 search_domain=dict(type='str'))
