# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scale.yml's removal of leaving control planes from etcd: module_utils/k8s_vm/etcd_members.py's members_of()."""

from __future__ import annotations

DOCUMENTATION = r"""
name: etcd_members_of
short_description: The etcd members of the given nodes, from etcd's own member list
version_added: 0.1.0
author: gpve.cluster developers
description:
  - >-
    Takes the output of C(etcdctl member list -w json) and returns the members that belong to the given nodes: a
    member named after a node (kubeadm names each member after its node), or whose peer URL has the node's address
    (a member added but never started has no name yet).
  - Each member's ID comes in hex, as C(etcdctl member remove) takes it.
options:
  _input:
    description: The member list, as the JSON text etcdctl prints or the parsed document.
    type: raw
    required: true
  nodes:
    description: The nodes, each with C(name) and C(ip) (the registry's nodes).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Remove the members of the leaving control planes
  ansible.builtin.command:
    argv: [etcdctl, member, remove, "{{ item.id }}"]
  loop: "{{ member_list.stdout | gpve.cluster.etcd_members_of(leaving_nodes) }}"
"""

RETURN = r"""
_value:
  description: One entry per member of the nodes, in the list's order.
  type: list
  elements: dict
  contains:
    id:
      description: The member's ID in hex.
      type: str
    name:
      description: The member's name (empty for a member that never started).
      type: str
    peer_urls:
      description: Its peer URLs.
      type: list
      elements: str
    node:
      description: The name of the node it belongs to.
      type: str
"""

import json

from ansible.errors import AnsibleFilterError

from ansible_collections.gpve.cluster.plugins.module_utils.k8s_vm import etcd_members


def etcd_members_of(member_list, nodes):
    # Ansible's tagged values to plain data, as the pure function expects.
    try:
        listed = json.loads(str(member_list)) if isinstance(member_list, (str, bytes)) else json.loads(json.dumps(member_list))
        return etcd_members.members_of(listed, json.loads(json.dumps(nodes)))
    except (ValueError, TypeError) as exc:
        raise AnsibleFilterError(f"etcd_members_of: {exc}") from None


class FilterModule:
    def filters(self):
        return {"etcd_members_of": etcd_members_of}
