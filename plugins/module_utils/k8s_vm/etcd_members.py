# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The etcd members of nodes, from etcd's own member list (pure: ``etcdctl member list -w json`` in, members out).

A kubeadm member is named after its node and advertises the node's address in its peer URL; a member added but
never started has no name yet, so the peer URL counts too. ``etcdctl member remove`` takes the ID in hex, as
``etcdctl member list`` prints it in its table; the JSON gives the decimal number.
"""

from __future__ import annotations

import ipaddress
import json
from urllib.parse import urlsplit


class EtcdMembersError(ValueError):
    """Not a member list (the message says what is missing)."""


def _listed(member_list):
    document = json.loads(member_list) if isinstance(member_list, (str, bytes)) else member_list
    if not isinstance(document, dict) or not isinstance(document.get('members'), list):
        raise EtcdMembersError('not the output of etcdctl member list -w json (no members)')
    return document['members']


def _address(value):
    try:
        return ipaddress.ip_address(str(value).strip('[]'))
    except ValueError:
        return str(value)


def _peer_hosts(member):
    return {_address(urlsplit(str(url)).hostname or '') for url in member.get('peerURLs') or []}


def members_of(member_list, nodes):
    """One entry per member of the given nodes ({name, ip}), in the list's order: id (hex, as etcdctl takes it),
    name, peer_urls and node (the node it belongs to)."""
    found = []
    for member in _listed(member_list):
        if 'ID' not in member:
            raise EtcdMembersError('a member without an ID')
        for node in nodes:
            if member.get('name') == node.get('name') or (node.get('ip') and _address(node['ip']) in _peer_hosts(member)):
                found.append({'id': format(int(member['ID']), 'x'), 'name': member.get('name', ''),
                              'peer_urls': list(member.get('peerURLs') or []), 'node': node.get('name')})
                break
    return found


def names(member_list):
    """The members' names (an unstarted member's is empty), in the list's order."""
    return [member.get('name', '') for member in _listed(member_list)]
