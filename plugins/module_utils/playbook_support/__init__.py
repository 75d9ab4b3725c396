# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the K8s-on-VM playbooks need from the registry and the cluster, for the playbook modules.

cluster_view (a cluster by name, its spec in gpve_k8s_vm's option form, its nodes), stage
(phases and stage events), credential (secrets kept encrypted in the registry),
upgrade_policy (version skew and order), bootstrap_token (kubeadm join material made through
the Kubernetes API).
"""
