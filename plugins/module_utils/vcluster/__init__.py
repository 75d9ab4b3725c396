# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Virtual clusters: on a host cluster (a StatefulSet) or, with isolation_mode vm, on a Proxmox VM.

spec.py            the module's options with every default filled in, as one plain dict
validation.py      checks on a normalised spec, and on a change to a registered one
runner.py          from the module's parameters to a finished run: build_request, then the run the spec asks for
run_record.py      what both runs share: the registry record, its phases, PKI events, the kubeconfig credentials
service.py         the run on a host cluster (VClusterRun): reconcile, wait, suspend, remove
vm_run.py          the run on a Proxmox VM (VmVClusterRun), with the K8s-on-VM machinery
registration.py    the registry record: registration, desired state, the kubeconfig and CA credentials
manifests.py       every host-cluster object, rendered from the spec, in apply order
statefulset.py     the control plane's StatefulSet
commands.py        the control-plane containers' command lines (k8s distro), used by the StatefulSet
names.py           names and labels of a vCluster's objects, after vcluster's conventions
endpoint.py        where users reach the API server, and the names its certificate carries
host.py            facts read from the host cluster before and after writing
isolation.py       what the container isolation mode adds around the namespace
vm_spec.py         the vm section, and the K8s-on-VM spec it stands for
vm_user_data.py    the cloud-init user-data that makes the VM a k3s server on first boot
"""
