# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""restore_etcd.yml's wait for each API server: module_utils/k8s_vm/static_pod.py's probe_url() as a filter."""

from __future__ import annotations

DOCUMENTATION = r"""
name: static_pod_probe_url
short_description: The URL a static pod's probe points at, read from its manifest
version_added: 0.1.0
author: gpve.cluster developers
description:
  - >-
    Takes a static pod manifest (its YAML text or the parsed document) and returns the URL its first container's
    probe asks: the probe's C(httpGet) scheme, host and port, the port resolved through the container's C(ports)
    when the probe names it (kubeadm 1.37 writes the API server's probes with C(port: probe-port)).
  - >-
    Use it to wait for a kubeadm control-plane component where the kubelet itself checks it, for example the API
    server bound to the node's address only, which never answers on 127.0.0.1.
options:
  _input:
    description: The manifest, as YAML text (for example a slurped C(/etc/kubernetes/manifests/kube-apiserver.yaml)) or a dict.
    type: raw
    required: true
  path:
    description: The path to ask in place of the probe's own (for example V(/readyz)); the probe's when omitted.
    type: str
  probe:
    description: Which probe of the container to read.
    type: str
    default: livenessProbe
    choices: [livenessProbe, readinessProbe, startupProbe]
  default_host:
    description: The host when the probe names none (the kubelet probes the pod's address then; the node's for a pod on the host network).
    type: str
    default: 127.0.0.1
"""

EXAMPLES = r"""
- name: Read the API server's manifest
  ansible.builtin.slurp:
    src: /etc/kubernetes/manifests/kube-apiserver.yaml
  register: manifest

- name: Wait until the API server is ready where its kubelet probes it
  ansible.builtin.uri:
    url: "{{ manifest.content | b64decode | gpve.cluster.static_pod_probe_url(path='/readyz', default_host=ansible_host) }}"
    validate_certs: false
  register: ready
  until: ready.status == 200
  retries: 60
  delay: 5
"""

RETURN = r"""
_value:
  description: The URL, for example V(https://10.0.0.11:6443/readyz) (an IPv6 host in brackets).
  type: str
"""

import json

import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.gpve.cluster.plugins.module_utils.k8s_vm import static_pod


def static_pod_probe_url(manifest, path=None, probe='livenessProbe', default_host='127.0.0.1'):
    # Ansible's tagged values to plain data, as the pure function expects.
    try:
        document = json.loads(json.dumps(manifest)) if isinstance(manifest, dict) else yaml.safe_load(str(manifest))
    except yaml.YAMLError as exc:
        raise AnsibleFilterError(f"static_pod_probe_url: the manifest is no YAML: {exc}") from None
    if not isinstance(document, dict):
        raise AnsibleFilterError("static_pod_probe_url: the manifest is no mapping")
    try:
        return static_pod.probe_url(document, None if path is None else str(path), str(probe), str(default_host))
    except static_pod.StaticPodError as exc:
        raise AnsibleFilterError(f"static_pod_probe_url: {exc}") from None


class FilterModule:
    def filters(self):
        return {"static_pod_probe_url": static_pod_probe_url}
