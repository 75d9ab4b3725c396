# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxmox VE value formats: tag lists, disk sizes, property strings such as net0."""

from __future__ import annotations

import re
from urllib.parse import quote

SIZE_UNITS = {'': 1024 ** 3, 'K': 1024, 'M': 1024 ** 2, 'G': 1024 ** 3, 'T': 1024 ** 4}
NET_MODELS = ('e1000', 'e1000e', 'rtl8139', 'virtio', 'vmxnet3')
TAG_SPLIT = re.compile(r'[;, ]+')


def split_tags(value):
    """PVE stores tags as one string separated by ';' (older releases accept ',' and ' ')."""
    return [tag for tag in TAG_SPLIT.split(str(value or '').lower()) if tag]


def join_tags(tags):
    return ';'.join(sorted(set(tags)))


def split_props(value):
    """'virtio=AA:BB,bridge=vmbr0,tag=5' -> [('virtio', 'AA:BB'), ('bridge', 'vmbr0'), ('tag', '5')]."""
    pairs = []
    for part in str(value or '').split(','):
        if part:
            key, _sep, val = part.partition('=')
            pairs.append((key, val))
    return pairs


def size_bytes(text):
    """Bytes of a PVE size such as 10G, 512M or 32 (GiB when no unit)."""
    found = re.fullmatch(r'\s*(\d+(?:\.\d+)?)\s*([KMGT]?)\s*', str(text))
    if not found:
        raise ValueError('not a Proxmox size: {0!r}'.format(text))
    return int(float(found.group(1)) * SIZE_UNITS[found.group(2)])


def disk_size_bytes(drive_value):
    """The size= of a drive value such as 'local-lvm:vm-100-disk-0,size=10G', or None."""
    for key, val in split_props(drive_value):
        if key == 'size':
            return size_bytes(val)
    return None


def net_value(current, bridge, vlan=None, model='virtio'):
    """A net0 value on bridge/vlan that keeps the NIC's model and MAC address (and its other options)."""
    pairs = split_props(current)
    nic = [(k, v) for k, v in pairs if k in NET_MODELS or k in ('model', 'macaddr')]
    rest = [(k, v) for k, v in pairs if k not in NET_MODELS and k not in ('model', 'macaddr', 'bridge', 'tag')]
    if not nic:
        nic = [(model, '')]
    wanted = nic + [('bridge', bridge)] + ([('tag', str(vlan))] if vlan is not None else []) + rest
    return ','.join('{0}={1}'.format(k, v) if v != '' else k for k, v in wanted)


def net_settings(value):
    """(bridge, vlan) of a net value; vlan None when untagged."""
    props = dict(split_props(value))
    tag = props.get('tag')
    return props.get('bridge'), int(tag) if tag not in (None, '') else None


def quote_sshkeys(keys):
    """PVE wants the sshkeys option URL-encoded, every character but letters and digits (its own UI does so)."""
    return quote('\n'.join(keys) + '\n', safe='')
