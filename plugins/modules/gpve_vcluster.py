#!/usr/bin/python
# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpve_vcluster
short_description: Virtual Kubernetes clusters on a host cluster
version_added: 0.1.0
description:
  - Creates, converges, suspends, resumes and deletes a virtual cluster (vCluster) that runs as a workload in a
    namespace of a host Kubernetes cluster, and records it in the gpve cluster registry.
  - Generates the vCluster's PKI (cluster CA, API server, kubelet client, front proxy, service-account keys, etcd,
    component kubeconfigs) in kubeadm's layout under vcluster's names, in the Secret C(<name>-certs); the admin
    kubeconfig also goes to C(vc-<name>) with vcluster's keys. A rerun reads the PKI back and renews leaf certificates
    close to expiry; the CAs are never replaced.
  - Validates the whole spec before it writes anything; every failure names the option and the fix.
  - The registry phase goes Pending, Provisioning, Initializing, Starting, Running; Updating for changes,
    Suspending and Suspended, Resuming, Deleting. A failure leaves the phase Failed with a message naming the object
    and the condition; a rerun picks up from there.
author:
  - gpve.cluster developers (@gpve)
extends_documentation_fragment:
  - gpve.cluster.attributes
  - gpve.cluster.registry
  - gpve.cluster.host_cluster
  - gpve.cluster.proxmox_auth
attributes:
  check_mode:
    support: full
    details: Reads and server-side dry runs only; neither the host cluster nor the registry is written.
  diff_mode:
    support: full
    details: Before and after of every object that changes; Secret values appear as digests, never in clear.
  idempotent:
    support: full
options:
  name:
    description: Name of the vCluster, a DNS label of at most 50 characters. Unique in the registry.
    type: str
    required: true
  namespace:
    description:
      - Host namespace of the vCluster. Default C(<prefix><name>), the prefix from
        C(GPVE_HOST_CLUSTER_NAMESPACE_PREFIX) (default C(vc-)).
      - A namespace gpve creates is labelled C(gpve.io/created-by=gpve) and deleted with the vCluster; an existing
        one is used and left in place.
    type: str
  state:
    description:
      - V(present) creates or converges; a version change rolls the control plane, one minor version at a time.
      - V(suspended) scales the control plane to zero, records C(gpve.io/paused-replicas) and C(gpve.io/paused-at)
        on the StatefulSet, deletes the pods the syncer created, keeps the data. V(present) resumes.
      - V(absent) deletes every object gpve created, the volume claims unless O(keep_pvc), the namespace when gpve
        created it, and waits until they are gone.
    type: str
    choices: [present, suspended, absent]
    default: present
  labels:
    description: Labels of the vCluster, in the registry and on its host objects.
    type: dict
  annotations:
    description: Annotations of the vCluster, in the registry and on its StatefulSet.
    type: dict
  kubernetes_version:
    description:
      - Kubernetes version of the virtual cluster, 1.35.0 to 1.37.x (the minors upstream supports; default V(1.37.2)).
      - Falls back to C(GPVE_VCLUSTER_KUBERNETES_VERSION).
    type: str
  distro:
    description:
      - V(k8s) runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler and the syncer as separate
        containers; V(k3s) runs one k3s server (SQLite, so a single replica) with the bundle's CAs.
      - With O(isolation_mode=vm), V(k3s) (the default there) installs k3s on the VM and V(k8s) bootstraps a
        single-node kubeadm cluster on it from the air-gap bundle (O(vm.airgap_dir), O(vm.artifact_url)).
      - Falls back to C(GPVE_VCLUSTER_DISTRO).
    type: str
    choices: [k8s, k3s]
  isolation_mode:
    description:
      - V(namespace), V(container) and V(microvm) fence the vCluster's namespace with a ResourceQuota
        (C(<name>-quota)), a LimitRange (C(<name>-limits)) and a default NetworkPolicy (C(<name>-isolation)); the
        quota is applied, and counted by the host, before anything it covers.
      - V(namespace) leaves the pods to the nodes' default runtime. V(container) adds Pod Security C(restricted)
        labels on the namespace and a restricted security context on the pods (non-root, C(RuntimeDefault) seccomp
        profile, no privilege escalation, no capabilities, read-only root file system), and runs the control plane
        and the synced pods with O(control_plane.runtime_class_name) when one is named (refused when the host lacks
        it). The control plane's volume must honour the pod's C(fsGroup) (hostPath volumes do not). V(microvm) runs
        the control plane and the synced pods with a RuntimeClass (Kata by default) and refuses when the host lacks
        it.
      - V(vm) runs the control plane as a single-node cluster on a Proxmox VE VM (see O(vm)), built by the
        machinery of M(gpve.cluster.gpve_k8s_vm); no host cluster is involved, the Proxmox connection options apply.
      - With V(vm), the VM's first boot installs and starts k3s (O(distro=k3s), the default) or a kubeadm control
        plane that runs the pods too (O(distro=k8s)) by itself from cloud-init user-data the module writes (no
        SSH), with the module's CAs where k3s or kubeadm reads them, so the admin kubeconfig is minted by the
        module. The endpoint is C(https://<VM address>:6443). V(suspended) shuts the VM down, V(present) starts it
        again, V(absent) destroys it.
      - Falls back to C(GPVE_VCLUSTER_DEFAULT_ISOLATION).
    type: str
    choices: [namespace, container, microvm, vm]
  control_plane:
    description: The control plane.
    type: dict
    suboptions:
      replicas:
        description: Control-plane replicas. 1, 3 or 5 with embedded etcd (quorum); 1 for k3s.
        type: int
      api_server:
        description: API server settings.
        type: dict
        suboptions:
          extra_args:
            description: More C(--flag=value) arguments; a flag given here replaces gpve's.
            type: list
            elements: str
      controller_manager:
        description: Controller manager settings.
        type: dict
        suboptions:
          extra_args:
            description: More C(--flag=value) arguments.
            type: list
            elements: str
      scheduler:
        description: Scheduler settings.
        type: dict
        suboptions:
          extra_args:
            description: More C(--flag=value) arguments.
            type: list
            elements: str
      etcd:
        description: etcd settings.
        type: dict
        suboptions:
          version:
            description: etcd image tag.
            type: str
          external:
            description: C(https://) endpoints of an external etcd (then no etcd container runs).
            type: list
            elements: str
      coredns:
        description: CoreDNS inside the virtual cluster.
        type: dict
        suboptions:
          enabled:
            description:
              - Whether CoreDNS is deployed inside the virtual cluster (default V(true)), by the syncer, or by the
                run when O(syncer.enabled=false).
            type: bool
      node_selector:
        description: Node selector of the control-plane pods.
        type: dict
      tolerations:
        description: Tolerations of the control-plane pods.
        type: list
        elements: dict
      runtime_class_name:
        description:
          - RuntimeClass of the control plane and the synced pods for V(microvm) isolation (default C(kata)) and
            V(container) isolation (none by default); refused with V(namespace) and V(vm) isolation, and when the
            host cluster has no RuntimeClass of that name.
        type: str
  networking:
    description: Networking of the virtual cluster.
    type: dict
    suboptions:
      service_cidr:
        description:
          - Service range of the virtual cluster; must not overlap the host's service range.
          - Default C(10.112.0.0/12), next to kubeadm's C(10.96.0.0/12).
        type: str
      pod_cidr:
        description: Pod range of the virtual cluster (default C(10.244.0.0/16)).
        type: str
      dns_domain:
        description: Cluster DNS domain (default C(cluster.local)).
        type: str
      expose:
        description: How the API server is reached from outside the namespace.
        type: dict
        suboptions:
          type:
            description: Exposure of the client Service.
            type: str
            choices: [ClusterIP, NodePort, LoadBalancer, Ingress]
          node_port:
            description: Node port (30000-32767) with V(NodePort).
            type: int
          load_balancer_ip:
            description: Requested address with V(LoadBalancer).
            type: str
          ingress:
            description: Ingress with TLS passthrough, with V(Ingress).
            type: dict
            suboptions:
              host:
                description: Host name of the Ingress.
                type: str
              class_name:
                description: IngressClass name.
                type: str
  storage:
    description: The control plane's data volume (a volume claim template).
    type: dict
    suboptions:
      size:
        description: Size of each replica's claim (default C(5Gi)); fixed after creation.
        type: str
      storage_class:
        description: StorageClass of the claims (default the host's default class).
        type: str
  resources:
    description:
      - Requests and limits per component (V(api_server), V(controller_manager), V(scheduler), V(etcd), V(syncer),
        V(coredns)), each a dict with C(requests) and C(limits). Defaults from the design (100m/128Mi requests,
        1000m/2Gi limits for control-plane containers; 50m/64Mi and 500m/512Mi for the syncer).
    type: dict
  sync:
    description:
      - What the syncer copies. C(to_host) (V(pods), V(services), V(config_maps), V(secrets), V(endpoints),
        V(persistent_volume_claims), V(ingresses), V(network_policies)) and C(from_host) (V(nodes),
        V(storage_classes), V(ingress_classes), V(priority_classes)), each C(true)/C(false) or a dict with
        C(enabled) and, for C(from_host) only, C(selector) (C(match_labels), C(match_expressions); nodes by
        C(match_labels) only), as the pinned upstream vCluster release (0.36.1) takes them.
    type: dict
  plugins:
    description:
      - vcluster plugins, each a sidecar container of the control-plane pod beside the syncer, as vCluster 0.36.1's
        chart makes its (legacy, C(plugin)) sidecar plugins, named in the syncer's configuration under C(plugin),
        C(VCLUSTER_PLUGIN_ADDRESS) (C(localhost:14000) and up, by name order) and C(VCLUSTER_PLUGIN_NAME) in its
        environment. Each has C(name) (a DNS label), C(image), and optionally C(args) (list) and C(env) (list of
        container environment entries, after those two). Only with the syncer (O(syncer.enabled)).
    type: list
    elements: dict
  syncer:
    description:
      - The vcluster syncer container, as the pinned upstream release (vCluster 0.36.1) runs it, with the image
        C(ghcr.io/loft-sh/vcluster-pro:0.36.1) (under O(image_registry) when set), no arguments, its configuration
        (Secret C(vc-config-<name>)) at C(/var/vcluster), probes on port 8443. It starts none of the control-plane
        components and uses the pod's API server and etcd through the bundle.
      - With it, as upstream, the client Service targets its proxy (443 -> 8443), which serves the API, and
        kube-apiserver runs with C(--endpoint-reconciler-type=none) (the syncer keeps the virtual C(kubernetes)
        Service's endpoints). Without it, the Service targets kube-apiserver (443 -> 6443).
    type: dict
    suboptions:
      enabled:
        description:
          - Run the syncer (default). V(false) deploys the virtual control plane only, for operators who want a
            virtual API and no pods synced to the host; then the run itself deploys CoreDNS's objects inside the
            virtual cluster through the virtual API server, which must be reachable from the controller
            (O(networking.expose) or O(kubeconfig_server)), unless O(control_plane.coredns.enabled=false).
        type: bool
  image_registry:
    description:
      - Registry prefix every image the module deploys comes from, C(host[:port][/path]) without a scheme. The
        control-plane images (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, CoreDNS) are named as
        kubeadm names them under a custom image repository (C(<prefix>/kube-apiserver:v1.37.2),
        C(<prefix>/coredns:v1.14.6)); the syncer, k3s and plugin images keep their repository
        (C(<prefix>/loft-sh/vcluster-pro:0.36.1), C(<prefix>/rancher/k3s:...)), as upstream vcluster's
        C(defaultImageRegistry) does.
      - Unset (C(registry.k8s.io)), the control-plane images come from registry.k8s.io and the others from their
        own registries.
      - Falls back to C(GPVE_VCLUSTER_IMAGE_REGISTRY).
    type: str
  pki:
    description: The vCluster's certificates.
    type: dict
    suboptions:
      extra_sans:
        description: More names or addresses for the API server certificate.
        type: list
        elements: str
      algorithm:
        description: Key algorithm. ECDSA P-256 by default (fast, accepted everywhere); RSA 2048 as kubeadm's default.
        type: str
        choices: [ecdsa-p256, rsa-2048]
      renew_before_days:
        description: Renew a leaf certificate that expires within this many days (default 30).
        type: int
  vm:
    description:
      - The Proxmox VE VM of a vCluster with O(isolation_mode=vm) (ignored otherwise). One VM named
        C(<name>-cp-1), cloned from a template with cloud-init and the QEMU guest agent, tagged
        C(gpve-cluster-<id>) and recorded as the vCluster's node.
    type: dict
    suboptions:
      template:
        description: Template (name or VMID) to clone (default C(ubuntu-22.04-k8s), as M(gpve.cluster.gpve_k8s_vm)).
        type: str
      node:
        description:
          - Proxmox node for the VM; unset, the node with the most free memory that holds the template.
          - Falls back to C(GPVE_PROXMOX_NODE).
        type: str
      storage:
        description:
          - Storage of the full clone; unset, the template's.
          - Falls back to C(GPVE_PROXMOX_STORAGE).
        type: str
      resources:
        description: CPU, memory (MB) and root disk (GB) of the VM; default 2 cores, 2048 MB, 20 GB.
        type: dict
        suboptions:
          cores:
            description: CPU cores per socket.
            type: int
          sockets:
            description: CPU sockets (default 1).
            type: int
          memory:
            description: Memory in MB (at least 512).
            type: int
          disk_size:
            description: Root disk in GB (the template's disk is grown to it, never shrunk).
            type: int
          cpu_type:
            description: QEMU CPU type, such as C(host).
            type: str
          numa:
            description: Enable NUMA.
            type: bool
      network:
        description:
          - The VM's network, as M(gpve.cluster.gpve_k8s_vm)'s C(network.vm_network). With V(static) the address
            comes from C(ip_range), never one another registered cluster holds.
          - The bridge falls back to C(GPVE_PROXMOX_NETWORK_BRIDGE) (default C(vmbr0)).
        type: dict
        suboptions:
          bridge:
            description: Linux bridge of the NIC.
            type: str
          vlan:
            description: VLAN tag.
            type: int
          ip_allocation:
            description: V(dhcp) (default), V(static) from O(vm.network.ip_range), or V(cloud-init) (the template's own).
            type: str
            choices: [dhcp, static, cloud-init]
          ip_range:
            description: First and last address for V(static).
            type: dict
            suboptions:
              start:
                description: First address.
                type: str
              end:
                description: Last address.
                type: str
          prefix:
            description: Prefix length of the subnet.
            type: int
          gateway:
            description: Default gateway.
            type: str
          dns:
            description: DNS servers.
            type: list
            elements: str
          search_domain:
            description: DNS search domain.
            type: str
      full_clone:
        description: Full clone (default) or linked clone of the template.
        type: bool
      vmid_start:
        description: Lowest VMID to give the VM (default 1000).
        type: int
      snippets_storage:
        description: Proxmox storage with content C(snippets) that holds the user-data (default C(local)).
        type: str
      snippets_dir:
        description:
          - Local directory that is O(vm.snippets_storage)'s C(snippets/) folder (C(/var/lib/vz/snippets) on the
            Proxmox node for C(local), or a shared storage mounted on the controller). Required with V(vm).
          - The Proxmox API cannot upload snippets, so the module writes C(gpve-vcluster-<name>-user-data.yaml) here
            (mode 0600, it holds the CA keys) and attaches it with C(cicustom).
        type: path
      k3s_version:
        description: k3s release to install, such as C(v1.37.2+k3s1); default C(v<kubernetes_version>+k3s1).
        type: str
      artifact_url:
        description:
          - Air-gap. An http(s) URL the VM downloads from, laid out as the k3s role's C(k3s_airgap_dir)
            (C(k3s/k3s), C(k3s/install.sh), C(k3s/k3s-airgap-images-amd64.tar.zst)); nothing is fetched from the
            internet then. Serve the role's artifact directory over HTTP; without SSH the module cannot copy files
            into the VM.
          - With O(distro=k8s) required, the air-gap bundle O(vm.airgap_dir) served over HTTP (layout of
            C(gpve_airgap_dir)); the VM fetches C(node_prep/*.deb), C(kubeadm/*.deb), C(kubeadm/images/*.tar) and
            C(images/*.tar) from it and checks each file's SHA-256.
        type: str
      airgap_dir:
        description:
          - With O(distro=k8s) required, the air-gap bundle (as create.yml's C(gpve_airgap_dir)) as a directory on
            the machine the module runs on, the same files O(vm.artifact_url) serves. The module reads the names and
            SHA-256 sums of the files the VM fetches from it; its C(kubeadm/kubelet_<version>-*.deb) must be of
            O(kubernetes_version).
        type: path
      node_prep:
        description:
          - With O(distro=k8s), settings of the C(gpve.cluster.node_prep) role for the VM, named as its variables
            without the C(node_prep_) prefix; unset ones keep the role's defaults. The sandbox (pause) image comes
            through O(image_registry).
        type: dict
        suboptions:
          kernel_modules:
            description: Kernel modules loaded at boot (default C(overlay), C(br_netfilter)).
            type: list
            elements: str
          sysctl:
            description: sysctl settings (default the bridge netfilter calls and C(net.ipv4.ip_forward) on).
            type: dict
          containerd_cgroup_driver:
            description: runc's cgroup driver, the kubelet's too (default V(systemd)).
            type: str
            choices: [systemd, cgroupfs]
          containerd_restrict_oom_score_adj:
            description: containerd's C(restrict_oom_score_adj), for VMs whose processes lack C(CAP_SYS_RESOURCE).
            type: bool
      kubeadm:
        description:
          - With O(distro=k8s), settings of the C(gpve.cluster.kubeadm) role for the VM's C(kubeadm init), named as
            its variables without the C(kubeadm_) prefix. The node carries no taint (it runs the pods); the image
            repository is O(image_registry) (default C(registry.k8s.io)).
        type: dict
        suboptions:
          kubelet_config:
            description: Merged over the role's KubeletConfiguration; its C(cgroupDriver) must be O(vm.node_prep.containerd_cgroup_driver).
            type: dict
          kube_proxy_config:
            description: Merged over the role's KubeProxyConfiguration (mode iptables).
            type: dict
          ignore_preflight_errors:
            description: Preflight checks kubeadm init reports but does not fail on.
            type: list
            elements: str
          timeouts:
            description: "kubeadm's InitConfiguration timeouts, such as C({controlPlaneComponentHealthCheck: 10m0s})."
            type: dict
      install_script_url:
        description: Where the VM downloads the k3s install script when not air-gapped (default C(https://get.k3s.io)).
        type: str
  api_url:
    description:
      - Address of the Proxmox VE API, C(https://host:port). Required with O(isolation_mode=vm), unused otherwise.
      - "Environment: C(GPVE_PROXMOX_API_URL), then community.proxmox's C(PROXMOX_HOST) (a host name, with
        C(PROXMOX_PORT))."
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of the API the run talks to, the host cluster's or, with O(isolation_mode=vm),
        Proxmox VE's. Default V(true).
      - O(host_validate_certs) and O(proxmox_validate_certs) say it for one connection and win over this option.
      - "Environment: for the host cluster C(GPVE_HOST_CLUSTER_VALIDATE_CERTS), then C(K8S_AUTH_VERIFY_SSL); for
        Proxmox C(GPVE_PROXMOX_VALIDATE_CERTS), then C(PROXMOX_VALIDATE_CERTS)."
    type: bool
  host_validate_certs:
    description:
      - Verify the host cluster API server's TLS certificate; unused with O(isolation_mode=vm).
      - "Precedence: this option, then O(validate_certs), then C(GPVE_HOST_CLUSTER_VALIDATE_CERTS), then
        C(K8S_AUTH_VERIFY_SSL); default V(true)."
    type: bool
  proxmox_validate_certs:
    description:
      - Verify the Proxmox VE API's TLS certificate; used with O(isolation_mode=vm) only.
      - "Precedence: this option, then O(validate_certs), then C(GPVE_PROXMOX_VALIDATE_CERTS), then
        C(PROXMOX_VALIDATE_CERTS); default V(true)."
    type: bool
  kubeconfig_dest:
    description: Write the admin kubeconfig here (mode 0600). Context and cluster are named C(gpve_<name>).
    type: path
  kubeconfig_server:
    description:
      - Server URL in the kubeconfig. Default from the exposure (ingress host, load balancer address, node address
        and node port) or the in-cluster Service name. Its host is added to the API server certificate.
    type: str
  wait:
    description:
      - Wait until the control plane is ready (or gone). With O(isolation_mode=vm), until the VM's C(/readyz)
        answers the admin credentials.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait.
      - Falls back to C(GPVE_VCLUSTER_WAIT_TIMEOUT).
    type: int
    default: 300
  keep_pvc:
    description: With V(state=absent), keep the data volume claims.
    type: bool
    default: false
notes:
  - The kubeconfig is also stored encrypted in the registry (credential type C(kubeconfig)). The module never
    returns key material.
"""

EXAMPLES = r"""
- name: A vCluster reachable through a NodePort, kubeconfig written locally
  gpve.cluster.gpve_vcluster:
    name: team-a
    kubernetes_version: 1.37.2
    networking:
      expose:
        type: NodePort
    kubeconfig_dest: ~/.kube/team-a.yaml

- name: Isolated, exposed through an ingress
  gpve.cluster.gpve_vcluster:
    name: ci
    isolation_mode: container
    networking:
      expose:
        type: Ingress
        ingress:
          host: ci.k8s.example.com
          class_name: nginx

- name: Only a virtual API (no syncer), every image from a local mirror
  gpve.cluster.gpve_vcluster:
    name: api-only
    syncer:
      enabled: false
    image_registry: registry.example.com:5000/k8s
    networking:
      expose:
        type: NodePort

- name: Pause it over the weekend
  gpve.cluster.gpve_vcluster:
    name: ci
    state: suspended

- name: A vCluster on its own Proxmox VM (single-node k3s), static address
  gpve.cluster.gpve_vcluster:
    name: lab
    isolation_mode: vm
    api_url: https://pve1.example.com:8006
    api_token_id: ansible@pve!gpve
    api_token_secret: "{{ vault_pve_token }}"
    vm:
      template: ubuntu-22.04-k8s
      node: pve1
      snippets_storage: local
      snippets_dir: /mnt/pve-local/snippets
      resources: {cores: 2, memory: 4096, disk_size: 30}
      network:
        ip_allocation: static
        ip_range: {start: 10.20.0.70, end: 10.20.0.79}
        prefix: 24
        gateway: 10.20.0.1
        dns: [10.20.0.2]
    kubeconfig_dest: ~/.kube/lab.yaml

- name: Gone, data included
  gpve.cluster.gpve_vcluster:
    name: ci
    state: absent
"""

RETURN = r"""
cluster:
  description: The vCluster as registered.
  returned: always
  type: dict
  contains:
    id:
      description: Registry id (none in check mode before the first real run).
      type: str
    name:
      description: Name.
      type: str
    phase:
      description: Registry phase after the run.
      type: str
    namespace:
      description: Host namespace.
      type: str
    endpoint:
      description: Server URL the kubeconfig uses.
      type: str
kubeconfig_path:
  description: Where the admin kubeconfig was written.
  returned: when O(kubeconfig_dest) is set and O(state=present)
  type: str
objects:
  description: Every host object considered, with the action taken (created, updated, unchanged, deleted, absent).
  returned: always
  type: list
  elements: dict
pki:
  description: Whether the PKI was created, which entries were renewed and why, and the key algorithm.
  returned: when O(state) is not V(absent)
  type: dict
"""

from ansible.module_utils.basic import env_fallback

from ansible_collections.gpve.cluster.plugins.module_utils.ansible_module import GpveModule
from ansible_collections.gpve.cluster.plugins.module_utils.connection_settings import environment_secrets
from ansible_collections.gpve.cluster.plugins.module_utils.kube import auth_spec
from ansible_collections.gpve.cluster.plugins.module_utils.kube.transport import HAS_URLLIB3, URLLIB3_IMPORT_ERROR
from ansible_collections.gpve.cluster.plugins.module_utils.module_runner import prepared, require_library
from ansible_collections.gpve.cluster.plugins.module_utils.pki.keys import CRYPTOGRAPHY_IMPORT_ERROR, HAS_CRYPTOGRAPHY
from ansible_collections.gpve.cluster.plugins.module_utils.planner import argument_spec as vm_arguments
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import auth_spec as proxmox_auth_spec
from ansible_collections.gpve.cluster.plugins.module_utils.registry_runner import run_on_registry
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.runner import build_request, run


def _env(name):
    return (env_fallback, [name])


def _extra_args():
    return dict(type='dict', options=dict(extra_args=dict(type='list', elements='str')))


def argument_spec():
    spec = dict(
        name=dict(type='str', required=True),
        namespace=dict(type='str'),
        state=dict(type='str', choices=['present', 'suspended', 'absent'], default='present'),
        labels=dict(type='dict'),
        annotations=dict(type='dict'),
        kubernetes_version=dict(type='str', fallback=_env('GPVE_VCLUSTER_KUBERNETES_VERSION')),
        distro=dict(type='str', choices=['k8s', 'k3s'], fallback=_env('GPVE_VCLUSTER_DISTRO')),
        isolation_mode=dict(type='str', choices=['namespace', 'container', 'microvm', 'vm'],
                            fallback=_env('GPVE_VCLUSTER_DEFAULT_ISOLATION')),
        control_plane=dict(type='dict', options=dict(
            replicas=dict(type='int'),
            api_server=_extra_args(),
            controller_manager=_extra_args(),
            scheduler=_extra_args(),
            etcd=dict(type='dict', options=dict(version=dict(type='str'), external=dict(type='list', elements='str'))),
            coredns=dict(type='dict', options=dict(enabled=dict(type='bool'))),
            node_selector=dict(type='dict'),
            tolerations=dict(type='list', elements='dict'),
            runtime_class_name=dict(type='str'),
        )),
        networking=dict(type='dict', options=dict(
            service_cidr=dict(type='str'),
            pod_cidr=dict(type='str'),
            dns_domain=dict(type='str'),
            expose=dict(type='dict', options=dict(
                type=dict(type='str', choices=['ClusterIP', 'NodePort', 'LoadBalancer', 'Ingress']),
                node_port=dict(type='int'),
                load_balancer_ip=dict(type='str'),
                ingress=dict(type='dict', options=dict(host=dict(type='str'), class_name=dict(type='str'))),
            )),
        )),
        storage=dict(type='dict', options=dict(size=dict(type='str'), storage_class=dict(type='str'))),
        resources=dict(type='dict'),
        sync=dict(type='dict'),
        plugins=dict(type='list', elements='dict'),
        syncer=dict(type='dict', options=dict(enabled=dict(type='bool'))),
        image_registry=dict(type='str', fallback=_env('GPVE_VCLUSTER_IMAGE_REGISTRY')),
        pki=dict(type='dict', options=dict(
            extra_sans=dict(type='list', elements='str'),
            algorithm=dict(type='str', choices=['ecdsa-p256', 'rsa-2048']),
            renew_before_days=dict(type='int'),
        )),
        kubeconfig_dest=dict(type='path'),
        kubeconfig_server=dict(type='str'),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=300, fallback=_env('GPVE_VCLUSTER_WAIT_TIMEOUT')),
        keep_pvc=dict(type='bool', default=False),
        registry=dict(type='str'),
        vm=dict(type='dict', options=dict(
            template=dict(type='str'),
            node=dict(type='str', fallback=_env('GPVE_PROXMOX_NODE')),
            storage=dict(type='str', fallback=_env('GPVE_PROXMOX_STORAGE')),
            resources=vm_arguments.resources_spec(),
            network=vm_arguments.vm_network_spec(),
            full_clone=dict(type='bool'),
            vmid_start=dict(type='int'),
            snippets_storage=dict(type='str'),
            snippets_dir=dict(type='path'),
            k3s_version=dict(type='str'),
            artifact_url=dict(type='str'),
            install_script_url=dict(type='str'),
            airgap_dir=dict(type='path'),
            node_prep=dict(type='dict', options=dict(
                kernel_modules=dict(type='list', elements='str'),
                sysctl=dict(type='dict'),
                containerd_cgroup_driver=dict(type='str', choices=['systemd', 'cgroupfs']),
                containerd_restrict_oom_score_adj=dict(type='bool'),
            )),
            kubeadm=dict(type='dict', options=dict(
                kubelet_config=dict(type='dict'),
                kube_proxy_config=dict(type='dict'),
                ignore_preflight_errors=dict(type='list', elements='str'),
                timeouts=dict(type='dict'),
            )),
        )),
    )
    spec.update(auth_spec.host_cluster_argument_spec())
    spec.update(proxmox_auth_spec.proxmox_auth_argument_spec())
    # One option for whichever API the run talks to, and one for each connection (runner.connection_options).
    spec['validate_certs'] = dict(type='bool')
    spec['host_validate_certs'] = dict(type='bool')
    spec['proxmox_validate_certs'] = dict(type='bool')
    return spec


def main():
    # The connection options are read from the environment by the run, for the connection it makes (host cluster, or
    # Proxmox with vm isolation): PROXMOX_* in the environment must not fail a vCluster on a host cluster.
    module = GpveModule(argument_spec=argument_spec(), supports_check_mode=True,
                        mutually_exclusive=auth_spec.HOST_CLUSTER_MUTUALLY_EXCLUSIVE
                        + proxmox_auth_spec.PROXMOX_AUTH_MUTUALLY_EXCLUSIVE)
    for secret in environment_secrets(auth_spec.HOST_CLUSTER_SETTINGS + proxmox_auth_spec.PROXMOX_SETTINGS):
        module.no_log_values.add(secret)
    require_library(module, HAS_URLLIB3, 'kubernetes', URLLIB3_IMPORT_ERROR)
    require_library(module, HAS_CRYPTOGRAPHY, 'cryptography', CRYPTOGRAPHY_IMPORT_ERROR)
    request = prepared(module, lambda: build_request(module.params, module.check_mode))
    run_on_registry(module, lambda store: run(request, store))


if __name__ == '__main__':
    main()
