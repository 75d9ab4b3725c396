# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Static addresses for a cluster's VMs from its ip_range.

The caller passes every address already given to another cluster in the registry
(taken), so one address never goes to two clusters. VMs that have an address keep it;
new VMs get the lowest free ones, in plan order, so the same inputs give the same plan.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

RANGE_FIELD = 'network.vm_network.ip_range'


class AddressPool:
    """The usable addresses of a static range: inside the subnet, not the gateway, DNS servers or the VIP."""

    def __init__(self, start, end, prefix, reserved=()):
        self.start = ipaddress.IPv4Address(start)
        self.end = ipaddress.IPv4Address(end)
        self.subnet = ipaddress.IPv4Network('{0}/{1}'.format(start, prefix), strict=False)
        self.reserved = set(ipaddress.IPv4Address(ip) for ip in reserved if ip)
        self.reserved.update((self.subnet.network_address, self.subnet.broadcast_address))

    @classmethod
    def from_vm_network(cls, vm_network, virtual_ip=None):
        ip_range = vm_network['ip_range']
        reserved = [vm_network.get('gateway'), virtual_ip] + list(vm_network.get('dns') or [])
        return cls(ip_range['start'], ip_range['end'], vm_network['prefix'], [ip for ip in reserved if _is_v4(ip)])

    def __contains__(self, address):
        ip = ipaddress.IPv4Address(address)
        return self.start <= ip <= self.end and ip not in self.reserved and ip in self.subnet

    def addresses(self):
        ip = self.start
        while ip <= self.end:
            if ip in self:
                yield ip
            ip += 1

    def size(self):
        inside = int(self.end) - int(self.start) + 1
        return inside - sum(1 for ip in self.reserved if self.start <= ip <= self.end)

    def free_count(self, taken):
        return self.size() - sum(1 for ip in _as_ips(taken) if ip in self)


def _is_v4(value):
    try:
        ipaddress.IPv4Address(value)
        return True
    except (ipaddress.AddressValueError, ValueError):
        return False


def _as_ips(addresses):
    return set(ipaddress.IPv4Address(ip) for ip in addresses if ip and _is_v4(ip))


def allocate(pool, names, current, taken):
    """{name: address} for names in order; current: {name: address} kept; taken: other clusters' addresses."""
    blocked = _as_ips(taken)
    result = {}
    for name in names:
        address = current.get(name)
        if address and _is_v4(address) and ipaddress.IPv4Address(address) not in blocked:
            result[name] = str(address)
    blocked |= _as_ips(result.values())
    free = (ip for ip in pool.addresses() if ip not in blocked)
    for name in names:
        if name in result:
            continue
        address = next(free, None)
        if address is None:
            need = len([n for n in names if n not in result]) + len(result)
            raise ValidationError(RANGE_FIELD, 'the range {0}-{1} has no free address left for {2}: the cluster needs {3} '
                                  'addresses and {4} of the range are free (the others are the gateway, DNS servers, '
                                  'the virtual IP or taken by other clusters); widen the range'.format(
                                      pool.start, pool.end, name, need, pool.free_count(taken)))
        result[name] = str(address)
    return result
