#!/usr/bin/python
# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpve_cluster_info
short_description: One view of every cluster in the gpve registry, with live health, drift and Prometheus metrics
version_added: 0.1.0
description:
  - Lists and queries the clusters of the gpve cluster registry (vClusters, K8s-on-VM clusters, imported external
    clusters) by type, phase, labels and name, with O(limit) and O(offset); selecting one cluster by O(name) or O(id)
    returns it in full (spec, status, nodes, recent events, backups, credential metadata and expiry).
  - With O(health=true) checks each selected cluster live with the kubeconfig stored in the registry - the API
    server's C(/readyz) and a namespace list, the control-plane components (their own health endpoints, else their
    kube-system pods, else their leader leases), nodes Ready, and etcd quorum for K8s-on-VM clusters (the members'
    health endpoints) - each check with its duration and message, and an overall V(healthy), V(degraded),
    V(unhealthy) or V(unknown) with the seed design's failure threshold.
  - With O(update_registry=true) writes the result back to the registry (the C(Healthy) status condition with the
    consecutive failure count, the heartbeat, version and counts) and records an event when the overall status changes.
  - With O(drift=true) compares K8s-on-VM clusters with Proxmox VE (VMs missing, extra, stopped, resized or moved) -
    one bulk read finds the VMs, then each selected cluster's VMs' configurations (pending changes applied; at most
    8 reads at a time) give CPUs, memory and disk sizes, compared with the registry's planned nodes.
  - With O(format=prometheus) returns the Prometheus text exposition and, with O(dest), writes it atomically for
    node_exporter's textfile collector.
  - Never returns key material.
author:
  - gpve.cluster developers (@gpve)
extends_documentation_fragment:
  - gpve.cluster.registry
  - gpve.cluster.attributes
  - gpve.cluster.proxmox_auth
attributes:
  check_mode:
    support: full
    details: Reads and checks as usual; neither the registry nor O(dest) is written, and C(changed) says whether they would be.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details: A plain query changes nothing. O(update_registry) stamps the probe time and O(dest) holds timestamps, so they
      report a change on every run.
options:
  name:
    description: The cluster of that name, in full.
    type: str
  id:
    description: The cluster with that registry id, in full.
    type: str
  type:
    description: Only clusters of these types.
    type: list
    elements: str
    choices: [vcluster, k8s-vm, external]
  phase:
    description: Only clusters in these phases (V(Running), V(Failed), ...).
    type: list
    elements: str
  labels:
    description: Only clusters carrying all these labels with these values.
    type: dict
  limit:
    description: At most this many clusters (ordered by name). RV(total) counts every match.
    type: int
  offset:
    description: Skip this many matching clusters first.
    type: int
    default: 0
  events_limit:
    description: How many recent events (and backups) a cluster in full shows.
    type: int
    default: 20
  health:
    description: Check each selected cluster live with the kubeconfig the registry stores for it.
    type: bool
    default: false
  health_timeout:
    description: Seconds to wait for one answer during the health checks.
    type: float
    default: 10
  failure_threshold:
    description:
      - Consecutive failed runs (a check V(unhealthy)) before a cluster is V(unhealthy); before that it is V(degraded).
      - The count is kept in the registry, so it only grows across runs with O(update_registry=true).
    type: int
    default: 3
  update_registry:
    description: Write the health results back to the registry (status condition, heartbeat, version, counts, an event on change).
    type: bool
    default: false
  drift:
    description:
      - Compare K8s-on-VM clusters with their VMs in Proxmox VE (needs the Proxmox connection options).
    type: bool
    default: false
  format:
    description: V(json) returns RV(clusters); V(prometheus) also returns RV(metrics), the text exposition.
    type: str
    choices: [json, prometheus]
    default: json
  dest:
    description:
      - Write the Prometheus text to this file atomically, mode 0644 (a C(*.prom) file in node_exporter's
        C(--collector.textfile.directory)). Needs O(format=prometheus).
    type: path
  api_url:
    description:
      - Address of the Proxmox VE API, C(https://host:port) (the port defaults to C(8006)). Only needed with O(drift=true).
      - "Environment: C(GPVE_PROXMOX_API_URL), then community.proxmox's C(PROXMOX_HOST) (a host name, with
        C(PROXMOX_PORT))."
    type: str
requirements:
  - kubernetes (with O(health=true))
  - proxmoxer (with O(drift=true))
notes:
  - Credentials are decrypted with C(GPVE_SECURITY_ENCRYPTION_KEY) (or the SQLite registry's key file) for health checks only.
  - Control-plane components are found through the health endpoints a cluster declares in its spec's
    C(monitoring_config.components) (M(gpve.cluster.gpve_external_cluster) option O(gpve.cluster.gpve_external_cluster#module:monitoring));
    components nothing is known about are reported, not counted.
seealso:
  - module: gpve.cluster.gpve_external_cluster
  - module: gpve.cluster.gpve_kubeconfig
  - name: gpve.cluster documentation of this module
    description: Checks, verdicts, metrics and examples.
    link: https://github.com/gpve/cluster/blob/main/docs/gpve_cluster_info.md
"""

EXAMPLES = r"""
- name: Every running production cluster
  gpve.cluster.gpve_cluster_info:
    phase: [Running]
    labels:
      env: prod
  register: prod

- name: One cluster in full, checked live, the result written back
  gpve.cluster.gpve_cluster_info:
    name: prod-eu1
    health: true
    update_registry: true
  register: prod_eu1

- name: K8s-on-VM clusters against Proxmox
  gpve.cluster.gpve_cluster_info:
    type: [k8s-vm]
    drift: true
  register: drift

- name: Metrics for node_exporter, every 5 minutes from cron or AWX
  gpve.cluster.gpve_cluster_info:
    health: true
    update_registry: true
    format: prometheus
    dest: /var/lib/node_exporter/textfile_collector/gpve_clusters.prom
"""

RETURN = r"""
clusters:
  description: The selected clusters, ordered by name. Selecting by O(name) or O(id) adds the full record.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Registry id.
      type: str
    name:
      description: Cluster name.
      type: str
    type:
      description: V(vcluster), V(k8s-vm) or V(external).
      type: str
    provider:
      description: Provider recorded at registration.
      type: str
    labels:
      description: Labels.
      type: dict
    phase:
      description: Lifecycle phase.
      type: str
    message:
      description: Message of the last phase change.
      type: str
    endpoint:
      description: API server URL.
      type: str
    version:
      description: Kubernetes version last seen.
      type: str
    node_count:
      description: Nodes last seen.
      type: int
    ready_nodes:
      description: Ready nodes last seen.
      type: int
    pod_count:
      description: Pods last seen.
      type: int
    registered_nodes:
      description: Nodes (VMs) the registry records.
      type: int
    conditions:
      description: Status conditions, among them C(Healthy).
      type: list
    last_heartbeat:
      description: When the cluster last answered (ISO 8601).
      type: str
    kubeconfig_expires_at:
      description: Expiry of the stored kubeconfig credential, when known.
      type: str
    issued_kubeconfig_expires_at:
      description: Expiry of the latest kubeconfig issued by gpve_kubeconfig.
      type: str
    last_backup_at:
      description: When the newest completed backup finished.
      type: str
    spec:
      description: The stored spec (full view only).
      type: dict
    status:
      description: The whole status record (full view only).
      type: dict
    nodes:
      description: Registry nodes (full view only).
      type: list
    events:
      description: Recent events, newest first (full view only).
      type: list
    backups:
      description: Recent backups, newest first (full view only).
      type: list
    credentials:
      description: Credential metadata - type, key id, created, expires, last used; never the secret (full view only).
      type: list
    health:
      description: With O(health=true) - C(status), C(message), C(consecutive_failures), C(failure_threshold),
        C(checks) (each with C(name), C(status), C(message), C(started_at), C(duration_seconds)), C(observed) and
        C(pods_by_phase).
      type: dict
    drift:
      description:
        - With O(drift=true), for K8s-on-VM clusters - C(missing), C(extra), C(stopped), C(resized), C(moved), C(in_sync).
        - Each C(resized) entry has C(name), C(vmid) and C(differences), a dict of C(cpus), C(memory_mb), C(disk_gb)
          (boot disk) or C(disk_gb.<key>) (additional disk) to C(registry) (expected) and C(proxmox) (actual).
      type: dict
  sample:
    - {id: 3f2a9c, name: prod-eu1, type: k8s-vm, phase: Running, endpoint: "https://10.20.0.5:6443", node_count: 6}
total:
  description: How many clusters match, before O(limit) and O(offset).
  returned: always
  type: int
metrics:
  description: The Prometheus text exposition (gpve_cluster_* gauges).
  returned: when O(format=prometheus)
  type: str
dest:
  description: The textfile written.
  returned: when O(dest) is set
  type: str
"""

from ansible_collections.gpve.cluster.plugins.module_utils.ansible_module import GpveModule
from ansible_collections.gpve.cluster.plugins.module_utils.cluster_info.query import Query
from ansible_collections.gpve.cluster.plugins.module_utils.cluster_info.service import ClusterInfoService, Request
from ansible_collections.gpve.cluster.plugins.module_utils.kube.transport import HAS_URLLIB3, URLLIB3_IMPORT_ERROR
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import auth_spec
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox.client import (
    HAS_PROXMOXER, PROXMOXER_IMPORT_ERROR, ConnectionOptions, ProxmoxClient,
)
from ansible_collections.gpve.cluster.plugins.module_utils.module_runner import apply_connection_settings, require_library
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds
from ansible_collections.gpve.cluster.plugins.module_utils.registry_runner import run_on_registry


def argument_spec():
    spec = auth_spec.proxmox_auth_argument_spec()
    spec.update(
        name=dict(type='str'),
        id=dict(type='str'),
        type=dict(type='list', elements='str', choices=list(kinds.CLUSTER_TYPES)),
        phase=dict(type='list', elements='str'),
        labels=dict(type='dict'),
        limit=dict(type='int'),
        offset=dict(type='int', default=0),
        events_limit=dict(type='int', default=20),
        health=dict(type='bool', default=False),
        health_timeout=dict(type='float', default=10),
        failure_threshold=dict(type='int', default=3),
        update_registry=dict(type='bool', default=False),
        drift=dict(type='bool', default=False),
        format=dict(type='str', choices=['json', 'prometheus'], default='json'),
        dest=dict(type='path'),
        registry=dict(type='str'),
    )
    return spec


def build_request(params, check_mode):
    query = Query(name=params['name'], id=params['id'], types=params['type'], phases=params['phase'],
                  labels=params['labels'], limit=params['limit'], offset=params['offset'])
    return Request(query=query, health=params['health'], update_registry=params['update_registry'],
                   failure_threshold=params['failure_threshold'], health_timeout=params['health_timeout'],
                   drift=params['drift'], output_format=params['format'], dest=params['dest'],
                   events_limit=params['events_limit'], check_mode=check_mode)


def proxmox_factory(params):
    """A client factory; the connection options are checked now (before the registry is read), the login later."""
    if not params['api_url']:
        return None
    connection = ConnectionOptions.from_params(params)
    return lambda: ProxmoxClient(connection)


def main():
    module = GpveModule(argument_spec=argument_spec(), supports_check_mode=True,
                        mutually_exclusive=[('name', 'id')] + auth_spec.PROXMOX_AUTH_MUTUALLY_EXCLUSIVE)
    if module.params['drift']:  # only drift talks to Proxmox: PROXMOX_* in the environment must not fail the rest
        apply_connection_settings(module, lambda params: auth_spec.resolve_proxmox_auth(params, required=False))
    params = module.params
    if params['health']:
        require_library(module, HAS_URLLIB3, 'kubernetes', URLLIB3_IMPORT_ERROR)
    if params['drift']:
        require_library(module, HAS_PROXMOXER, 'proxmoxer', PROXMOXER_IMPORT_ERROR)

    def work(store):
        factory = proxmox_factory(params)
        return ClusterInfoService(store, factory).run(build_request(params, module.check_mode))

    run_on_registry(module, work)


if __name__ == '__main__':
    main()
