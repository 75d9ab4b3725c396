# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every vCluster run shares, whatever runs the control plane: the registry record and its phases.

service.VClusterRun (a StatefulSet on a host cluster) and vm_run.VmVClusterRun (a k3s VM on Proxmox) each hold
one RunRecord and do not inherit from each other. It checks the spec and finds the registered vCluster, records
the spec, moves the phases along a route (picking up where an earlier run stopped), turns a failure into Failed,
records PKI events, keeps the admin kubeconfig and CA as credentials (and writes kubeconfig_dest), and builds
the outcome a run returns.
"""

from __future__ import annotations

import datetime

from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig, lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError, ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs, keys, layout
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds, stored_specs
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import registration, validation

L = lifecycle
PRESENT, SUSPENDED, ABSENT = "present", "suspended", "absent"
CREATE_ROUTE = {"base": [L.PROVISIONING], "workload": [L.INITIALIZING], "wait": [L.STARTING], "done": [L.RUNNING]}
CONVERGE_ROUTE = {"base": [L.UPDATING], "done": [L.RUNNING]}
RESUME_ROUTE = {"base": [L.RESUMING], "done": [L.RUNNING]}
ROUTES = {
    None: CREATE_ROUTE, L.PENDING: CREATE_ROUTE, L.FAILED: CREATE_ROUTE, L.PROVISIONING: CREATE_ROUTE,
    L.INITIALIZING: CREATE_ROUTE, L.STARTING: CREATE_ROUTE,
    L.RUNNING: CONVERGE_ROUTE, L.UPDATING: CONVERGE_ROUTE, L.SCALING: CONVERGE_ROUTE, L.UPGRADING: CONVERGE_ROUTE,
    L.RECOVERING: CONVERGE_ROUTE,
    L.SUSPENDED: RESUME_ROUTE, L.RESUMING: RESUME_ROUTE,
    L.SUSPENDING: {"base": [L.SUSPENDED, L.RESUMING], "done": [L.RUNNING]},
}
CREATE_ORDER = [L.PENDING, L.PROVISIONING, L.INITIALIZING, L.STARTING, L.RUNNING]
SUSPEND_ROUTE = {"base": [L.SUSPENDING], "done": [L.SUSPENDED]}
DELETE_ROUTE = {"base": [L.DELETING], "done": [L.DELETED]}


class RunRecord:
    """One run's side of the registry. spec: the normalised spec; options: service.RunOptions; store: the registry."""

    def __init__(self, spec, options, store):
        self.spec = spec
        self.options = options
        self.store = store
        self.cluster = None
        self.route = {}
        self.warnings = []

    def start(self):
        """Check the spec, find the registered vCluster and, unless the run removes it, check the change; the state."""
        validation.validate_spec(self.spec)
        self.cluster = self.store.find_cluster(self.spec["name"], type=kinds.VCLUSTER)
        if self.options.state != ABSENT and self.cluster is not None:
            validation.validate_change(self.spec, stored_specs.spec_of(self.cluster))
        return self.options.state

    def unchanged_spec(self):
        """True when the registry already holds this spec as the desired state."""
        return stored_specs.spec_of(self.cluster) == self.spec

    def record(self):
        """Register the vCluster, or record the spec as its desired state."""
        if self.cluster is None:
            self.cluster = registration.register(self.store, self.spec)
        else:
            self.cluster = registration.record_spec(self.store, self.cluster, self.spec)

    def phase(self):
        return self.cluster.status.phase if self.cluster is not None else None

    def refuse_while_deleting(self, phase):
        if phase == L.DELETING:
            raise ValidationError("state", f"vCluster {self.spec['name']} is being deleted; finish with state=absent")

    def enter(self, stage, **status_fields):
        """Move through the phases the route puts before stage; phases already passed are skipped."""
        for phase in self.route.get(stage, []):
            current = self.phase()
            if current == phase or _passed(current, phase):
                continue
            if not lifecycle.allowed(current, phase) and lifecycle.allowed(current, L.FAILED):
                # A run that stopped half way left this phase behind; start over from Failed.
                self.transition(L.FAILED, f"an earlier run stopped while {current}; taking over")
            fields = status_fields if stage == "done" else {}
            self.transition(phase, f"{phase} ({stage})", **fields)

    def transition(self, phase, message, **status_fields):
        self.cluster.status, _event = lifecycle.transition(self.store, self.cluster.id, phase,
                                                           trigger="gpve_vcluster", message=message, **status_fields)

    def guarded(self, work):
        """work(); a GpveError on the way moves the vCluster to Failed (with its message) before it goes up."""
        try:
            return work()
        except GpveError as error:
            if self.cluster is not None:
                current = self.store.get_status(self.cluster.id).phase
                if current != L.FAILED and lifecycle.allowed(current, L.FAILED):
                    self.transition(L.FAILED, str(error))
            raise

    def record_pki(self, outcome):
        """An event when the PKI was created or leaves were renewed (names and reasons, nothing else)."""
        if outcome.created:
            self.store.add_event(self.cluster.id, "Normal", "CertificatesCreated", "the vCluster PKI was generated")
        elif outcome.renewed:
            message = "; ".join(f"{name}: {reason}" for name, reason in outcome.renewed.items())
            self.store.add_event(self.cluster.id, "Normal", "CertificatesRenewed", message,
                                 metadata={"renewed": dict(outcome.renewed)})
        for warning in outcome.warnings:
            self.store.add_event(self.cluster.id, "Warning", "CertificateAuthorityExpiring", warning)

    def kubeconfig_pending(self, plan):
        """True when kubeconfig_dest or the stored credentials differ from what plan (admin kubeconfig, PKI) gives."""
        if self.options.kubeconfig_dest:
            try:
                with open(self.options.kubeconfig_dest, encoding="utf-8") as current:
                    if current.read() != plan.admin_kubeconfig:
                        return True
            except OSError:
                return True
        if self.cluster is None:
            return True
        return registration.stored_credentials(self.store, self.cluster.id) != credentials(plan)

    def write_kubeconfig(self, plan):
        registration.store_credentials(self.store, self.cluster.id, credentials(plan))
        if self.options.kubeconfig_dest:
            kubeconfig.write_kubeconfig(self.options.kubeconfig_dest, plan.admin_kubeconfig)

    def now_text(self):
        return (self.options.now or datetime.datetime.now(datetime.timezone.utc)).replace(microsecond=0).isoformat()

    def current(self):
        """The registry record as the run leaves it (as it found it, in check mode)."""
        if self.cluster is not None and not self.options.check_mode:
            return self.store.get_cluster(self.cluster.id, include_deleted=True)
        return self.cluster

    def kubeconfig_path(self):
        return self.options.kubeconfig_dest if self.options.kubeconfig_dest and self.options.state == PRESENT else None


def credentials(plan):
    """What the registry keeps for the vCluster: the admin kubeconfig and the cluster CA (certificate and key)."""
    ca = plan.pki.bundle.cas[layout.CLUSTER_CA]
    return {kinds.KUBECONFIG: plan.admin_kubeconfig,
            kinds.CA: certs.cert_pem(ca.cert) + keys.private_key_pem(ca.key)}


def _passed(current, phase):
    """True when the create path already went beyond phase."""
    return current in CREATE_ORDER and phase in CREATE_ORDER and CREATE_ORDER.index(current) >= CREATE_ORDER.index(phase)
