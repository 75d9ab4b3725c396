# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubeconfig server rewrite for roles and playbooks: module_utils/kubeconfig.py's with_server as a filter."""

from __future__ import annotations

DOCUMENTATION = r"""
name: kubeconfig_with_server
short_description: A kubeconfig whose selected context's cluster points at another server
version_added: 0.1.0
author: gpve.cluster developers
description:
  - Takes a kubeconfig (YAML text, as read from a node's admin.conf or k3s.yaml, or the parsed document) and
    returns it as YAML text with the server of the cluster its context uses replaced.
  - The same rewrite every module of the collection uses (C(with_server) in module_utils/kubeconfig.py).
  - Fails on text that is not a kubeconfig, on a context or cluster the document does not name, and on a server
    that is not an http(s) URL with a host.
options:
  _input:
    description: The kubeconfig, as YAML text or as a dictionary.
    type: raw
    required: true
  server:
    description: The API server URL the cluster entry gets, for example V(https://10.0.0.10:6443).
    type: str
    required: true
  context:
    description: The context whose cluster is rewritten; by default the document's current-context.
    type: str
"""

EXAMPLES = r"""
- name: Write the admin kubeconfig on the controller, pointing at the cluster endpoint
  ansible.builtin.copy:
    content: "{{ admin_conf.content | b64decode | gpve.cluster.kubeconfig_with_server('https://10.0.0.10:6443') }}"
    dest: "{{ kubeconfig_dest }}"
    mode: "0600"
  delegate_to: localhost
  no_log: true
"""

RETURN = r"""
_value:
  description: The kubeconfig as YAML text, with the new server.
  type: str
"""

import json

from ansible.errors import AnsibleFilterError

from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig


def kubeconfig_with_server(config, server, context=None):
    # Ansible hands over its own str subclasses (tagged values), which the YAML dumper refuses: plain data only.
    server = str(server)
    context = None if context is None else str(context)
    try:
        document = json.loads(json.dumps(config)) if isinstance(config, dict) else kubeconfig.load_kubeconfig(str(config))
        return kubeconfig.dump_kubeconfig(kubeconfig.with_server(document, server, context))
    except kubeconfig.KubeconfigError as exc:
        raise AnsibleFilterError(f"kubeconfig_with_server: {exc}") from None


class FilterModule:
    def filters(self):
        return {"kubeconfig_with_server": kubeconfig_with_server}
