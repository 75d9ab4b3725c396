# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry's vocabulary: cluster types, credential types and phases, each spelled once.

Everything that names a kind of cluster, a stored credential or a phase imports it from
here; lifecycle.py keeps the transitions between the phases.
"""

from __future__ import annotations

# Cluster types ----------------------------------------------------------------------------
VCLUSTER = "vcluster"
K8S_VM = "k8s-vm"
EXTERNAL = "external"
CLUSTER_TYPES = (VCLUSTER, K8S_VM, EXTERNAL)
# The schema's CHECK constraint (since version 1) also accepts the seed's Cluster API type; nothing here makes one.
SCHEMA_CLUSTER_TYPES = CLUSTER_TYPES + ("cluster-api",)

# Credential types (the second half of a credential envelope's AAD) --------------------------
KUBECONFIG = "kubeconfig"          # an admin kubeconfig (every cluster type)
CA = "ca"                          # a cluster CA, certificate and key PEM together (vCluster): signs short-lived access
PKI = "pki"                        # the whole PKI of a vm-isolated vCluster
ETCD_CLIENT = "etcd-client"        # an etcd client certificate for health checks (K8s-on-VM)
WEBHOOK_SECRET = "webhook-secret"  # a webhook subscriber's signing secret (bound to the subscriber id)

# Phases ----------------------------------------------------------------------------------------
PENDING = "Pending"
PROVISIONING = "Provisioning"
BOOTSTRAPPING = "Bootstrapping"
INSTALLING = "Installing"
INITIALIZING = "Initializing"
STARTING = "Starting"
CONNECTING = "Connecting"
RUNNING = "Running"
UPDATING = "Updating"
SCALING = "Scaling"
UPGRADING = "Upgrading"
SUSPENDING = "Suspending"
SUSPENDED = "Suspended"
RESUMING = "Resuming"
DELETING = "Deleting"
DELETED = "Deleted"
FAILED = "Failed"
RECOVERING = "Recovering"
