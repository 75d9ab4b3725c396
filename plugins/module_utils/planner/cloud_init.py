# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-VM cloud-init settings in PVE's own keys.

PVE builds the cloud-init drive from these: the host name is the VM name, ciuser and
sshkeys make the login, ipconfig0 the address of the first NIC, nameserver and
searchdomain the resolver. ip_allocation decides ipconfig0: static gives the planned
address, dhcp asks for a lease, cloud-init leaves the template's own network config alone.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import formats


def ipconfig(vm_network, address):
    mode = vm_network['ip_allocation']
    if mode == 'static':
        value = 'ip={0}/{1}'.format(address, vm_network['prefix'])
        return value + (',gw={0}'.format(vm_network['gateway']) if vm_network.get('gateway') else '')
    if mode == 'dhcp':
        return 'ip=dhcp'
    return None


def settings(spec, address, cicustom=None):
    """{PVE key: value} for one VM; keys that would be empty are left out.

    cicustom: a user-data snippet that replaces PVE's generated user part (the network
    config and meta-data still come from the keys here).
    """
    vm_network = spec['network']['vm_network']
    keys = spec['ssh']['public_keys']
    values = {
        'ciuser': spec['ssh']['user'],
        'sshkeys': formats.quote_sshkeys(keys) if keys else None,
        'ipconfig0': ipconfig(vm_network, address),
        'nameserver': ' '.join(vm_network['dns']) if vm_network['dns'] else None,
        'searchdomain': vm_network.get('search_domain'),
        'cicustom': cicustom,
        # PVE (8.1 on) makes cloud-init upgrade every package at first boot by default: that apt run holds the
        # dpkg lock while the roles install theirs, and an offline site has no mirror to upgrade from.
        'ciupgrade': 0,
    }
    return dict((key, value) for key, value in values.items() if value is not None and value != '')
