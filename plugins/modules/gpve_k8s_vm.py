#!/usr/bin/python
# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpve_k8s_vm
short_description: Kubernetes clusters on Proxmox VE virtual machines
version_added: 0.1.0
description:
  - Plans and provisions the VMs of a Kubernetes cluster on Proxmox VE (control planes, worker pools and a load
    balancer VM), records the cluster and its nodes in the gpve cluster registry, and returns the nodes so a playbook
    can bootstrap the distribution on them.
  - Validates the whole spec before it writes anything to Proxmox or the registry; every failure names the option
    and the fix.
  - Plans deterministic names (C(<name>-cp-<n>), C(<name>-<pool>-<n>), C(<name>-lb)), VMIDs, static addresses (never
    one another cluster in the registry holds), placement (control planes on distinct Proxmox nodes, the rest where
    memory is free) and per-VM cloud-init.
  - Clones, configures and starts the VMs concurrently, bounded per Proxmox node and storage, follows every Proxmox
    task by its UPID, retries config lock timeouts, and waits until each guest agent reports the expected address.
  - Idempotent and resumable; VMs are found by their tags C(gpve-cluster-<id>), C(gpve-role-<role>) and
    C(gpve-pool-<pool>). Scaling adds or removes the highest-numbered VMs.
  - The registry phase goes Pending, Provisioning, then Bootstrapping once every VM answers (see O(wait)). A change to a Running
    cluster goes through Updating or Scaling; after VMs were added it stays Scaling until the join playbook is done.
author:
  - gpve.cluster developers (@gpve)
extends_documentation_fragment:
  - gpve.cluster.attributes
  - gpve.cluster.registry
  - gpve.cluster.proxmox_auth
  - gpve.cluster.proxmox_auth.target
requirements:
  - kubernetes (with O(check_disruption_budgets=true))
attributes:
  check_mode:
    support: full
    details: Returns the plan and a diff; touches neither Proxmox nor the registry.
  diff_mode:
    support: full
    details: Before is the VMs found in Proxmox, after the planned VMs.
  idempotent:
    support: full
options:
  name:
    description:
      - Cluster name, a DNS-1123 label. Unique in the registry; it prefixes every VM name.
    type: str
    required: true
  state:
    description:
      - V(present) plans and provisions; V(absent) stops and destroys every VM tagged with the cluster (also VMs the
        registry lost track of), deletes its credentials and keeps the registry row soft-deleted with its events.
    type: str
    choices: [present, absent]
    default: present
  labels:
    description: Labels of the cluster in the registry.
    type: dict
  distribution:
    description: The Kubernetes distribution the VMs will run.
    type: dict
    suboptions:
      type:
        description: Distribution. Defaults to V(kubeadm).
        type: str
        choices: [kubeadm, k3s, k0s, rke2, talos]
      version:
        description:
          - Release of the distribution, spelled its way (V(v1.37.2+k3s1), V(v1.37.2+rke2r1), V(v1.37.2+k0s.0), Talos
            V(v1.7.4)); its Kubernetes version must equal O(kubernetes_version). Unset follows O(kubernetes_version).
        type: str
      config:
        description:
          - Distribution configuration, passed on to the bootstrap roles.
          - C(guest_agent) (bool) says whether the VMs' image runs the QEMU guest agent. Default V(true), but V(false) for
            Talos, whose nocloud image has none; without an agent the VMs keep their static addresses and
            O(network.vm_network.ip_allocation=dhcp) is refused.
        type: dict
  kubernetes_version:
    description:
      - Kubernetes version, C(MAJOR.MINOR.PATCH). Clusters are created at the minors upstream supports, V(1.35.0) to
        V(1.37.x), for every distribution; anything else is refused before anything is written.
      - Defaults to V(1.37.2).
    type: str
  topology:
    description: Control plane topology.
    type: dict
    suboptions:
      high_availability:
        description:
          - Several control planes behind the load balancer. Unset, it follows O(control_plane.replicas) (true above 1).
          - True needs at least 3 control planes (2 with external etcd); false needs exactly 1.
        type: bool
      external_etcd:
        description: An existing etcd cluster instead of etcd stacked on the control planes.
        type: dict
        suboptions:
          endpoints:
            description: Client URLs of the etcd members, such as V(https://10.0.0.21:2379).
            type: list
            elements: str
          ca_file:
            description: CA of the etcd members, on the controller.
            type: path
          cert_file:
            description: Client certificate for the API servers.
            type: path
          key_file:
            description: Key of O(topology.external_etcd.cert_file).
            type: path
      placement:
        description: Proxmox nodes every VM of the cluster may use, unless a group names its own.
        type: dict
        suboptions:
          nodes:
            description: Proxmox node names.
            type: list
            elements: str
  control_plane:
    description: The control plane VMs.
    type: dict
    suboptions:
      replicas:
        description:
          - Number of control planes. Odd with stacked etcd (1, 3, 5); change it only between odd counts.
          - Defaults to V(3).
        type: int
      template:
        description:
          - Template to clone, by name or VMID. It must exist on the chosen Proxmox node, or sit on shared storage.
          - Defaults to V(ubuntu-22.04-k8s); worker pools and the load balancer default to this template.
        type: str
      resources:
        description:
          - CPU, memory and disk of each VM. Defaults to 2 cores, 4096 MB and a 50 GB root disk.
        type: dict
        suboptions: &resources
          cores:
            description: CPU cores per socket.
            type: int
          sockets:
            description: CPU sockets. Defaults to V(1).
            type: int
          memory:
            description: Memory in MB.
            type: int
          disk_size:
            description: Root disk size in GB; the template's disk is grown to it (never shrunk).
            type: int
          cpu_type:
            description: QEMU CPU type (V(host), V(x86-64-v2-AES), ...). Unset keeps the template's.
            type: str
          numa:
            description: Enable NUMA.
            type: bool
      additional_disks:
        description: Disks added to each VM after the root disk (as C(scsi1), C(scsi2), ...).
        type: list
        elements: dict
        suboptions: &disks
          size:
            description: Size in GB.
            type: int
            required: true
          storage:
            description: Storage for the disk. Defaults to O(storage), else the storage of the template's root disk.
            type: str
      placement:
        description: Where the control planes go.
        type: dict
        suboptions:
          nodes:
            description: Proxmox nodes the control planes may use.
            type: list
            elements: str
          anti_affinity:
            description: Every control plane on a distinct Proxmox node. Defaults to V(true).
            type: bool
      taints:
        description: Taints of the control plane nodes, passed on to the bootstrap roles.
        type: list
        elements: dict
        suboptions: &taints
          key:
            description: Taint key.
            type: str
            required: true
          value:
            description: Taint value.
            type: str
          effect:
            description: Taint effect.
            type: str
            choices: [NoSchedule, PreferNoSchedule, NoExecute]
            default: NoSchedule
  workers:
    description:
      - Worker pools. Unset gives one pool V(workers) of 3 VMs with 4 cores, 8192 MB and 100 GB; an empty list gives none.
      - Raising O(workers[].replicas) adds VMs with the next indexes; lowering it removes the highest; removing a pool
        removes its VMs.
    type: list
    elements: dict
    suboptions:
      name:
        description: Pool name, a DNS-1123 label (not V(cp) or V(lb)); VMs are named C(<cluster>-<pool>-<n>).
        type: str
        required: true
      replicas:
        description: Number of VMs. Defaults to V(3).
        type: int
      min_replicas:
        description: Lower bound for autoscaling; O(workers[].replicas) may not be below it.
        type: int
      max_replicas:
        description: Upper bound for autoscaling; O(workers[].replicas) may not be above it.
        type: int
      template:
        description: Template to clone, by name or VMID. Defaults to O(control_plane.template).
        type: str
      resources:
        description: CPU, memory and disk of each VM. Defaults to 4 cores, 8192 MB and a 100 GB root disk.
        type: dict
        suboptions: *resources
      additional_disks:
        description: Disks added to each VM after the root disk.
        type: list
        elements: dict
        suboptions: *disks
      labels:
        description: Kubernetes labels of the pool's nodes.
        type: dict
      taints:
        description: Taints of the pool's nodes.
        type: list
        elements: dict
        suboptions: *taints
      placement:
        description: Where the pool's VMs go.
        type: dict
        suboptions:
          nodes:
            description: Proxmox nodes the pool may use.
            type: list
            elements: str
          anti_affinity:
            description: Every VM of the pool on a distinct Proxmox node. Defaults to V(false).
            type: bool
  network:
    description: Cluster and VM networking.
    type: dict
    suboptions:
      pod_cidr:
        description: Pod network. Defaults to V(10.244.0.0/16).
        type: str
      service_cidr:
        description: Service network. Defaults to V(10.96.0.0/12).
        type: str
      dns_domain:
        description: Cluster DNS domain. Defaults to V(cluster.local).
        type: str
      cni:
        description: The CNI plugin the bootstrap roles install.
        type: dict
        suboptions:
          type:
            description: CNI plugin. Defaults to V(cilium).
            type: str
            choices: [calico, cilium, flannel, weave, custom]
          version:
            description: CNI version.
            type: str
          config:
            description: CNI configuration.
            type: dict
      vm_network:
        description: The network of the VMs' first NIC.
        type: dict
        suboptions:
          bridge:
            description:
              - Linux bridge on the Proxmox nodes. Defaults to the C(GPVE_PROXMOX_NETWORK_BRIDGE) environment
                variable, else V(vmbr0).
            type: str
          vlan:
            description: VLAN tag of the NIC.
            type: int
          ip_allocation:
            description:
              - V(static) gives every VM an address from O(network.vm_network.ip_range) through cloud-init;
                V(dhcp) asks for a lease; V(cloud-init) leaves the template's own network configuration alone.
              - Defaults to V(dhcp). Cannot change on an existing cluster.
            type: str
            choices: [dhcp, static, cloud-init]
          ip_range:
            description: Addresses for static allocation (the gateway, DNS servers and virtual IP are skipped).
            type: dict
            suboptions:
              start:
                description: First address.
                type: str
              end:
                description: Last address.
                type: str
          prefix:
            description: Prefix length of the VM subnet, such as V(24).
            type: int
          gateway:
            description: Default gateway of the VMs.
            type: str
          dns:
            description: DNS servers of the VMs.
            type: list
            elements: str
          search_domain:
            description: DNS search domain of the VMs.
            type: str
  load_balancer:
    description: The API server endpoint.
    type: dict
    suboptions:
      type:
        description:
          - V(haproxy) and V(keepalived) run on a VM of their own (C(<name>-lb)); V(kube-vip) and V(metallb) announce
            O(load_balancer.virtual_ip) from the control planes; V(external) uses O(load_balancer.external_address).
          - Defaults to V(haproxy).
        type: str
        choices: [haproxy, keepalived, kube-vip, metallb, external]
      virtual_ip:
        description: Virtual IP of the API server; inside the VM subnet, outside O(network.vm_network.ip_range).
        type: str
      external_address:
        description: Address of an external load balancer, for O(load_balancer.type=external).
        type: str
      api_server_port:
        description: API server port. Defaults to V(6443).
        type: int
      template:
        description: Template of the load balancer VM. Defaults to O(control_plane.template).
        type: str
      resources:
        description: CPU, memory and disk of the load balancer VM. Defaults to 2 cores, 2048 MB and 20 GB.
        type: dict
        suboptions: *resources
  addons:
    description: Add-ons for the bootstrap roles (metrics server, ingress, cert-manager, ...), stored with the spec.
    type: dict
  ssh:
    description: The login cloud-init creates on every VM.
    type: dict
    suboptions:
      user:
        description: User name. Defaults to V(ubuntu).
        type: str
      public_keys:
        description: OpenSSH public keys of the user.
        type: list
        elements: str
  full_clone:
    description: Full clones (independent disks) rather than linked clones of the template.
    type: bool
    default: true
  vmid_start:
    description: New VMs get the lowest free VMIDs from this one on.
    type: int
    default: 1000
  task_timeout:
    description: Seconds to wait for one Proxmox task (a clone, a start, ...).
    type: int
    default: 600
  agent_timeout:
    description: Seconds to wait for a VM's guest agent to report its address (with O(wait=true)).
    type: int
    default: 300
  wait:
    description:
      - V(true) waits up to O(agent_timeout) until every guest agent reports its VM's address, in this one task.
      - V(false) builds and starts the VMs as V(true) does, then asks each guest agent once without waiting. VMs whose
        agent has not answered are returned with status V(Pending) and listed in RV(agents.waiting); the cluster stays
        in its phase (V(Provisioning), V(Scaling) or V(Updating)) until a later run finds every agent answering. RV(msg)
        counts them (V(3/6 VMs answer)), so a task rerun with C(until)/C(retries)/C(delay) shows the progress on each
        retry, as the gpve.cluster.k8s_vm playbooks do. A rerun that finds nothing new writes nothing.
    type: bool
    default: true
  check_disruption_budgets:
    description:
      - V(true), when the plan removes VMs of a registered cluster, reads the cluster's PodDisruptionBudgets, the pods
        of their namespaces and its nodes through the admin kubeconfig the registry holds, and refuses, before anything
        is written, a removal whose drain a budget would block for good (the budget allows no disruption now; the nodes
        left could not run as many of its pods as it must keep healthy; a pod with more than one budget). The message
        names the budget, the pods and the field (C(workers[N].replicas), C(control_plane.replicas)). The
        gpve.cluster.k8s_vm scale playbook sets it.
    type: bool
    default: false
  max_parallel_per_node:
    description: VMs built at the same time on one Proxmox node.
    type: int
    default: 2
  max_parallel_per_storage:
    description: VMs built at the same time on one storage.
    type: int
    default: 4
notes:
  - The templates need the QEMU guest agent and cloud-init; the module enables the agent option on every VM.
  - Memory changes of a running VM take effect at its next restart, as Proxmox applies them.
seealso:
  - name: gpve.cluster documentation of this module
    description: Flow, phases and examples.
    link: https://github.com/gpve/cluster/blob/main/docs/gpve_k8s_vm.md
"""

EXAMPLES = r"""
- name: Three control planes, two worker pools, static addresses
  gpve.cluster.gpve_k8s_vm:
    name: prod-eu1
    kubernetes_version: "1.37.2"
    control_plane:
      replicas: 3
      resources: {cores: 2, memory: 4096, disk_size: 50}
    workers:
      - name: general
        replicas: 3
      - name: storage
        replicas: 2
        additional_disks:
          - size: 200
        labels:
          disk: ssd
    network:
      vm_network:
        bridge: vmbr0
        ip_allocation: static
        ip_range: {start: 10.20.0.10, end: 10.20.0.60}
        prefix: 24
        gateway: 10.20.0.1
        dns: [10.20.0.2]
    load_balancer:
      type: keepalived
      virtual_ip: 10.20.0.5
    ssh:
      public_keys:
        - "{{ lookup('ansible.builtin.file', '~/.ssh/id_ed25519.pub') }}"
  register: cluster

- name: Add the new VMs to the play
  ansible.builtin.add_host:
    name: "{{ item.name }}"
    ansible_host: "{{ item.ip }}"
    groups: ["{{ item.role }}"]
  loop: "{{ cluster.nodes }}"

- name: Show what a change would do, without doing it
  gpve.cluster.gpve_k8s_vm:
    name: prod-eu1
    workers:
      - name: general
        replicas: 5
  check_mode: true
  diff: true

- name: Start the VMs without waiting, then rerun until every guest agent answers (each retry counts them)
  gpve.cluster.gpve_k8s_vm:
    name: prod-eu1
    wait: false
  register: cluster
  until: cluster.agents is not defined or cluster.agents.waiting | length == 0
  retries: 60
  delay: 5

- name: Delete the cluster and its VMs
  gpve.cluster.gpve_k8s_vm:
    name: prod-eu1
    state: absent
"""

RETURN = r"""
cluster:
  description: The cluster as the registry has it.
  returned: always
  type: dict
  contains:
    id:
      description: Registry id; null in check mode for a cluster not registered yet.
      type: str
    name:
      description: Cluster name.
      type: str
    type:
      description: Always V(k8s-vm).
      type: str
    phase:
      description: Registry phase (Pending, Provisioning, Bootstrapping, ..., Deleted).
      type: str
    endpoint:
      description: API server URL, C(https://<virtual IP, external address or LB/first control plane>:<port>).
      type: str
  sample: {id: 3f2a..., name: prod-eu1, type: k8s-vm, phase: Bootstrapping, endpoint: "https://10.20.0.5:6443"}
nodes:
  description: The cluster's VMs.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: VM and host name.
      type: str
    vmid:
      description: Proxmox VMID.
      type: int
    role:
      description: V(control-plane), V(worker) or V(lb).
      type: str
    pool:
      description: Worker pool, null for other roles.
      type: str
    ip:
      description: Address the guest agent reported (or planned, in check mode).
      type: str
    proxmox_node:
      description: Proxmox node of the VM.
      type: str
    status:
      description:
        - V(Running) once the agent answered; V(Pending) when not finished or (O(wait=false)) its agent has not answered
          yet; V(Planned) in check mode for a VM the run would create or change.
      type: str
msg:
  description:
    - How many of the cluster's VMs have a guest agent that answered, C(<answering>/<VMs> VMs answer). In check mode
      it counts what the registry records and adds that no agent was asked.
  returned: O(state=present)
  type: str
  sample: 3/6 VMs answer
agents:
  description: The guest agents of the cluster's VMs.
  returned: O(state=present)
  type: dict
  contains:
    answer:
      description: VMs whose guest agent reported the VM's address.
      type: int
    total:
      description: VMs of the cluster.
      type: int
    waiting:
      description:
        - Names of the VMs whose guest agent has not answered yet (only with O(wait=false); empty in check mode, which
          asks no agent). Rerun the task until it is empty.
      type: list
      elements: str
  sample: {answer: 3, total: 6, waiting: [prod-eu1-general-1, prod-eu1-general-2, prod-eu1-lb]}
plan:
  description:
    - The plan. With O(state=present) every VM (name, vmid, role, pool, index, ip, proxmox_node, template, resources,
      disks, network, cloud-init, tags, settings hash) and the lists C(create), C(update) (VM name to what changes),
      C(start), C(delete) and C(unchanged). With O(state=absent) the list C(delete).
  returned: always
  type: dict
"""

import os

from ansible_collections.gpve.cluster.plugins.module_utils.ansible_module import GpveModule
from ansible_collections.gpve.cluster.plugins.module_utils.k8s_vm.service import K8sVmService, Request
from ansible_collections.gpve.cluster.plugins.module_utils.planner import argument_spec as vm_arguments
from ansible_collections.gpve.cluster.plugins.module_utils.planner.plan import Options
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import auth_spec
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox.client import (
    HAS_PROXMOXER, PROXMOXER_IMPORT_ERROR, ConnectionOptions, ProxmoxClient,
)
from ansible_collections.gpve.cluster.plugins.module_utils.module_runner import apply_connection_settings, require_library
from ansible_collections.gpve.cluster.plugins.module_utils.registry_runner import run_on_registry

SPEC_KEYS = ('name', 'labels', 'distribution', 'kubernetes_version', 'topology', 'control_plane', 'workers', 'network',
             'load_balancer', 'addons', 'ssh')


def _dict(**options):
    return dict(type='dict', options=options)


def _list(**options):
    return dict(type='list', elements='dict', options=options)


def _nodes():
    return dict(type='list', elements='str')


RESOURCES = vm_arguments.resources_spec()
DISKS = _list(size=dict(type='int', required=True), storage=dict(type='str'))
TAINTS = _list(key=dict(type='str', required=True, no_log=False), value=dict(type='str'),
               effect=dict(type='str', choices=['NoSchedule', 'PreferNoSchedule', 'NoExecute'], default='NoSchedule'))


def argument_spec():
    spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        labels=dict(type='dict'),
        distribution=_dict(type=dict(type='str', choices=['kubeadm', 'k3s', 'k0s', 'rke2', 'talos']),
                           version=dict(type='str'), config=dict(type='dict')),
        kubernetes_version=dict(type='str'),
        topology=_dict(high_availability=dict(type='bool'),
                       external_etcd=_dict(endpoints=_nodes(), ca_file=dict(type='path'), cert_file=dict(type='path'),
                                           key_file=dict(type='path', no_log=False)),
                       placement=_dict(nodes=_nodes())),
        control_plane=_dict(replicas=dict(type='int'), template=dict(type='str'), resources=RESOURCES,
                            additional_disks=DISKS, placement=_dict(nodes=_nodes(), anti_affinity=dict(type='bool')),
                            taints=TAINTS),
        workers=_list(name=dict(type='str', required=True), replicas=dict(type='int'), min_replicas=dict(type='int'),
                      max_replicas=dict(type='int'), template=dict(type='str'), resources=RESOURCES,
                      additional_disks=DISKS, labels=dict(type='dict'), taints=TAINTS,
                      placement=_dict(nodes=_nodes(), anti_affinity=dict(type='bool'))),
        network=_dict(pod_cidr=dict(type='str'), service_cidr=dict(type='str'), dns_domain=dict(type='str'),
                      cni=_dict(type=dict(type='str', choices=['calico', 'cilium', 'flannel', 'weave', 'custom']),
                                version=dict(type='str'), config=dict(type='dict')),
                      vm_network=vm_arguments.vm_network_spec()),
        load_balancer=_dict(type=dict(type='str', choices=['haproxy', 'keepalived', 'kube-vip', 'metallb', 'external']),
                            virtual_ip=dict(type='str'), external_address=dict(type='str'),
                            api_server_port=dict(type='int'), template=dict(type='str'), resources=RESOURCES),
        addons=dict(type='dict'),
        ssh=_dict(user=dict(type='str'), public_keys=dict(type='list', elements='str', no_log=False)),
        full_clone=dict(type='bool', default=True),
        vmid_start=dict(type='int', default=1000),
        task_timeout=dict(type='int', default=600),
        agent_timeout=dict(type='int', default=300),
        wait=dict(type='bool', default=True),
        check_disruption_budgets=dict(type='bool', default=False),
        max_parallel_per_node=dict(type='int', default=2),
        max_parallel_per_storage=dict(type='int', default=4),
        registry=dict(type='str'),
    )
    spec.update(auth_spec.proxmox_auth_argument_spec())
    spec.update(auth_spec.proxmox_target_argument_spec())
    return spec


def build_request(params, check_mode):
    return Request(
        spec=dict((key, params.get(key)) for key in SPEC_KEYS), state=params['state'],
        options=Options(node=params['node'], storage=params['storage'], full_clone=params['full_clone'],
                        vmid_start=params['vmid_start']),
        default_bridge=os.environ.get('GPVE_PROXMOX_NETWORK_BRIDGE'), task_timeout=params['task_timeout'],
        agent_timeout=params['agent_timeout'], per_node=params['max_parallel_per_node'],
        per_storage=params['max_parallel_per_storage'], check_mode=check_mode, wait=params['wait'],
        check_disruption_budgets=params['check_disruption_budgets'])


def main():
    module = GpveModule(argument_spec=argument_spec(), supports_check_mode=True,
                        mutually_exclusive=auth_spec.PROXMOX_AUTH_MUTUALLY_EXCLUSIVE)
    require_library(module, HAS_PROXMOXER, 'proxmoxer', PROXMOXER_IMPORT_ERROR)
    apply_connection_settings(module, auth_spec.resolve_proxmox_auth)

    def work(store):
        # The connection options are checked before the registry is touched: a bad api_url writes nothing.
        connection = ConnectionOptions.from_params(module.params)
        return K8sVmService(store, lambda: ProxmoxClient(connection)).run(build_request(module.params, module.check_mode))

    run_on_registry(module, work)


if __name__ == '__main__':
    main()
