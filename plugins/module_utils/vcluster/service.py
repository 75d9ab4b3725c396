# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run of gpve_vcluster: bring a vCluster to present, suspended or absent.

Every run first reconciles in check mode (reads and server dry runs only): that is the
whole answer in check mode, and for a vCluster already Running with nothing to change it
ends the run without a single write, registry included. Otherwise the registry records
the spec and the phases move along the vCluster path (Pending -> Provisioning ->
Initializing -> Starting -> Running; Updating, Suspending/Suspended, Resuming and
Deleting for the other moves) while the objects are applied. A run that stopped half
way (an API server that went away) picks up from the phase it reached. A failure moves
the vCluster to Failed with the message that names the object and the condition.
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass, field

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.kube import reconcile, wait
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeWaitTimeout
from ansible_collections.gpve.cluster.plugins.module_utils.pki import bundle as bundles
from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs, keys, layout, renewal
from ansible_collections.gpve.cluster.plugins.module_utils.registry import stored_specs
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import endpoint as endpoints
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import coredns, host, isolation, manifests, names, registration
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import run_record, validation
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.statefulset import render_statefulset

PRESENT, SUSPENDED, ABSENT = run_record.PRESENT, run_record.SUSPENDED, run_record.ABSENT
L = lifecycle
# The base objects (RBAC, service accounts, Services, claims, isolation objects) and the Secrets are applied this
# many at a time once the namespace exists: none of them depends on another.
APPLY_WORKERS = 6
# Applied before the other base objects, the quota then counted (_wait_quota_counted).
FIRST_KINDS = ("Namespace", "ResourceQuota", "LimitRange")
# Seconds the host's quota controller gets to count a new ResourceQuota (milliseconds when it is not overloaded).
QUOTA_WAIT = 60


@dataclass
class RunOptions:
    """What a run does besides the spec."""

    state: str = PRESENT
    wait: bool = True
    wait_timeout: float = 300
    kubeconfig_dest: str = None
    kubeconfig_server: str = None
    keep_pvc: bool = False
    check_mode: bool = False
    now: datetime.datetime = None


@dataclass
class Outcome:
    """What a run returns: never key material."""

    changed: bool = False
    cluster: dict = field(default_factory=dict)
    objects: list = field(default_factory=list)
    pki: dict = field(default_factory=dict)
    kubeconfig_path: str = None
    warnings: list = field(default_factory=list)
    diff: dict = field(default_factory=lambda: {"before": {}, "after": {}})


@dataclass
class Plan:
    """One reconciliation pass: the object changes, the PKI outcome, the endpoint, the admin kubeconfig."""

    changes: list = field(default_factory=list)
    pki: renewal.Outcome = None
    endpoint: endpoints.Endpoint = None
    admin_kubeconfig: str = ""
    namespace_absent: bool = False
    # Objects applied inside the virtual cluster (through its own API server), not on the host.
    virtual: list = field(default_factory=list)
    # (kind, name) of every host object the spec wants: what else of _owned_objects exists is pruned.
    wanted: set = field(default_factory=set)


class VClusterRun:
    """The run of one vCluster. resources: kube.resources.Resources on the host; store: the registry."""

    def __init__(self, spec, options, resources, store):
        self.spec = spec
        self.options = options
        self.resources = resources
        self.store = store
        self.record = run_record.RunRecord(spec, options, store)
        self._host_range_known = False
        # The namespace state the host check just read, for the check pass that follows it (one read, not two).
        self._namespace_read = None

    @property
    def cluster(self):
        return self.record.cluster

    def run(self):
        state = self.record.start()
        if state == ABSENT:
            return self._absent()
        self._check_host()
        if state == SUSPENDED:
            return self._suspended()
        return self._present()

    # present ------------------------------------------------------------------------------

    def _present(self):
        phase = self.record.phase()
        self.record.refuse_while_deleting(phase)
        resuming = phase in (L.SUSPENDED, L.SUSPENDING, L.RESUMING)
        replicas = self._resume_replicas() if resuming else None
        planned = self._reconcile(check_mode=True, replicas=replicas)
        kubeconfig_pending = self.record.kubeconfig_pending(planned)
        nothing_to_do = (phase == L.RUNNING and not any(c.changed for c in planned.changes)
                         and not planned.pki.changed and not kubeconfig_pending
                         and self.record.unchanged_spec())
        if self.options.check_mode or nothing_to_do:
            return self._outcome(planned, changed=not nothing_to_do)
        self.record.route = run_record.ROUTES[phase]
        self.record.record()
        done = self.record.guarded(lambda: self._bring_up(replicas, planned))
        return self._outcome(done, changed=True)

    def _bring_up(self, replicas, planned):
        self.record.enter("base")
        plan = self._reconcile(check_mode=False, replicas=replicas, until="secrets", previous=planned)
        self.record.record_pki(plan.pki)
        self.record.enter("workload")
        plan.changes += reconcile.apply_objects(self.resources, [self._statefulset(replicas)], previous=planned.changes)
        plan.changes += self._prune(plan.wanted, check_mode=False)
        self.record.enter("wait")
        target = replicas if replicas is not None else self.spec["control_plane"]["replicas"]
        if self.options.wait:
            self._wait_ready(target)
        elif not self._ready(target):
            self.record.write_kubeconfig(plan)
            self.record.warnings.append("not waiting (wait=false): the vCluster stays Starting until a run finds it ready")
            return plan
        if self._deploys_coredns():
            plan.virtual = self._apply_inside(plan, coredns.objects(self.spec))
        self.record.write_kubeconfig(plan)
        self.record.enter("done", endpoint=plan.endpoint.server, version=self.spec["kubernetes_version"])
        return plan

    def _deploys_coredns(self):
        """Without a syncer nothing else deploys CoreDNS inside the virtual cluster: the run does (the syncer does
        it itself when it runs, as upstream's does)."""
        return self.spec["control_plane"]["coredns"]["enabled"] and not self.spec["syncer"]["enabled"]

    def _apply_inside(self, plan, objects):
        """Apply objects through the virtual API server (plan's endpoint and admin kubeconfig), once it answers."""
        from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
        from ansible_collections.gpve.cluster.plugins.module_utils.kube.resources import Resources
        connection = connect(kubeconfig=plan.admin_kubeconfig)
        try:
            virtual = Resources(connection)
            try:
                wait.wait_for(lambda: (virtual.get("Namespace", "kube-system") is not None, "no kube-system yet"),
                              self.options.wait_timeout, f"the virtual API server at {plan.endpoint.server}")
            except KubeWaitTimeout as timeout:
                raise KubeWaitTimeout(f"{timeout}; the run deploys CoreDNS through the virtual API server when "
                                      "syncer.enabled is false: make it reachable from the controller "
                                      "(networking.expose, kubeconfig_server) or set control_plane.coredns.enabled "
                                      "false") from None
            return reconcile.apply_objects(virtual, objects)
        finally:
            connection.close()

    # suspended ------------------------------------------------------------------------------

    def _suspended(self):
        if self.cluster is None:
            raise ValidationError("state", f"vCluster {self.spec['name']} does not exist; create it with state=present "
                                  "before suspending it")
        phase = self.record.phase()
        live = self.resources.get("StatefulSet", names.statefulset(self.spec["name"]), self.spec["namespace"])
        paused = _annotations(live).get(names.PAUSED_REPLICAS_ANNOTATION)
        recorded = {names.PAUSED_REPLICAS_ANNOTATION: paused or str(_replicas(live, self.spec)),
                    names.PAUSED_AT_ANNOTATION: _annotations(live).get(names.PAUSED_AT_ANNOTATION) or self.record.now_text()}
        planned = self._reconcile(check_mode=True, replicas=0, annotations=recorded)
        synced = self._synced_pods()
        if phase == L.SUSPENDED and not any(c.changed for c in planned.changes) and not synced:
            return self._outcome(planned, changed=False)
        if self.options.check_mode:
            return self._outcome(planned, changed=True)
        self.record.route = run_record.SUSPEND_ROUTE if phase != L.SUSPENDING else {"done": [L.SUSPENDED]}
        self.record.record()
        return self._outcome(self.record.guarded(lambda: self._scale_down(recorded, planned)), changed=True)

    def _scale_down(self, recorded, planned):
        self.record.enter("base")
        plan = self._reconcile(check_mode=False, replicas=0, annotations=recorded, previous=planned)
        for pod in self._synced_pods():
            reconcile.delete_object(self.resources, "Pod", pod["metadata"]["name"], self.spec["namespace"])
        if self.options.wait:
            self._wait_ready(0)
        self.record.enter("done")
        return plan

    # absent -------------------------------------------------------------------------------

    def _absent(self):
        namespace = self.spec["namespace"] if self.cluster is None else \
            stored_specs.spec_of(self.cluster)["namespace"]
        spec = dict(self.spec, namespace=namespace)
        exists, ours = host.namespace_state(self.resources, namespace)
        targets = _owned_objects(spec) if exists else []
        live = [(kind, name, ns) for kind, name, ns in targets if self.resources.get(kind, name, ns) is not None]
        claims = [] if self.options.keep_pvc or not exists else self._claims(spec)
        delete_namespace = exists and ours
        if not live and not claims and not delete_namespace and self.cluster is None:
            return Outcome(changed=False, cluster={"name": self.spec["name"], "phase": None, "namespace": namespace})
        if self.options.check_mode:
            changes = [reconcile.Change(kind, name, ns or "", reconcile.DELETED) for kind, name, ns in live]
            changes += [reconcile.Change("PersistentVolumeClaim", c, namespace, reconcile.DELETED) for c in claims]
            if delete_namespace:
                changes.append(reconcile.Change("Namespace", namespace, "", reconcile.DELETED))
            return self._outcome(Plan(changes=changes), changed=True)
        self.record.route = run_record.DELETE_ROUTE if self.cluster is not None else {}
        return self._outcome(self.record.guarded(lambda: self._tear_down(spec, live, claims, delete_namespace)),
                             changed=True)

    def _tear_down(self, spec, live, claims, delete_namespace):
        self.record.enter("base")
        changes = [reconcile.delete_object(self.resources, kind, name, ns) for kind, name, ns in live]
        changes += [reconcile.delete_object(self.resources, "PersistentVolumeClaim", claim, spec["namespace"])
                    for claim in claims]
        if delete_namespace:
            changes.append(reconcile.delete_object(self.resources, "Namespace", spec["namespace"]))
        if self.options.wait:
            self._wait_gone(spec, delete_namespace)
        if self.cluster is not None:
            registration.delete_credentials(self.store, self.cluster.id)
            self.record.enter("done")
        return Plan(changes=changes)

    def _wait_gone(self, spec, namespace_deleted):
        if namespace_deleted:
            wait.wait_for(lambda: (self.resources.get("Namespace", spec["namespace"]) is None, "the namespace still exists"),
                          self.options.wait_timeout, f"Namespace {spec['namespace']} deletion")
            return
        selector = ",".join(f"{k}={v}" for k, v in names.selector_labels(spec["name"]).items())

        def pods_gone():
            remaining = self.resources.list("Pod", spec["namespace"], label_selector=selector)
            return not remaining, f"{len(remaining)} control-plane pods remain"

        wait.wait_for(pods_gone, self.options.wait_timeout, f"vCluster {spec['name']} pods deletion")

    # one reconciliation pass --------------------------------------------------------------

    def _reconcile(self, check_mode, replicas=None, annotations=None, until=None, previous=None):
        """One pass over every object; previous: the check-mode Plan this real pass follows."""
        spec, resources = self.spec, self.resources
        plan = Plan()
        if previous is not None and previous.namespace_absent:
            # The check pass this real pass follows found no namespace: everything is created, nothing is read.
            exists, ours = False, False
        elif check_mode and self._namespace_read is not None:
            exists, ours = self._namespace_read
        else:
            exists, ours = host.namespace_state(resources, spec["namespace"])
        self._namespace_read = None
        plan.namespace_absent = not exists
        cluster_id = self.cluster.id if self.cluster else None
        base = manifests.base_objects(spec, cluster_id, manage_namespace=ours or not exists)
        earlier = previous.changes if previous else None
        absent = None if exists else spec["namespace"]
        # The quota first, counted before anything it covers is created: the host's admission refuses a Service, a
        # Secret or a claim while a new quota's usage is not known yet ("status unknown for quota").
        first = [obj["kind"] in FIRST_KINDS for obj in base]
        plan.changes = reconcile.apply_objects(resources, [obj for obj, early in zip(base, first) if early], check_mode,
                                               earlier, absent, workers=APPLY_WORKERS)
        if not check_mode:
            self._wait_quota_counted(_live_of(plan.changes, "ResourceQuota", names.resource_quota(spec["name"])))
        plan.changes += reconcile.apply_objects(resources, [obj for obj, early in zip(base, first) if not early],
                                                check_mode, earlier, absent, workers=APPLY_WORKERS)
        if not check_mode:
            self._check_host_range()
        client_service = _live_of(plan.changes, "Service", names.client_service(spec["name"]))
        node_address = host.first_node_address(resources) if spec["networking"]["expose"]["type"] == "NodePort" else None
        plan.endpoint = endpoints.resolve(spec, client_service, node_address, self.options.kubeconfig_server)
        plan.pki = self._pki(plan.endpoint, known_absent=absent is not None, previous=previous.pki if previous else None)
        certs_data = bundles.secret_data(plan.pki.bundle)
        cluster_name = names.context(spec["name"])
        vc_data = bundles.vcluster_kubeconfig_data(plan.pki.bundle, plan.endpoint.server, cluster_name)
        plan.admin_kubeconfig = vc_data[bundles.VCLUSTER_CONFIG]
        secrets = manifests.secret_objects(spec, certs_data, vc_data, plan.endpoint)
        plan.changes += reconcile.apply_objects(resources, secrets, check_mode, earlier, absent, workers=APPLY_WORKERS)
        statefulset = self._statefulset(replicas, annotations)
        plan.wanted = {(obj["kind"], obj["metadata"]["name"]) for obj in base + secrets + [statefulset]}
        if until != "secrets":
            plan.changes += reconcile.apply_objects(resources, [statefulset], check_mode, earlier, absent)
            plan.changes += [] if absent else self._prune(plan.wanted, check_mode)
        return plan

    def _prune(self, wanted, check_mode):
        """Delete what an earlier spec made and this one no longer wants (the syncer's Role, bindings and Secret after
        syncer.enabled false, an Ingress after a switch to NodePort): the Changes. Only an object that carries this
        vCluster's name label goes: one of the same name that someone else made stays."""
        changes = []
        for kind, name, namespace in _owned_objects(self.spec):
            if (kind, name) in wanted:
                continue
            live = self.resources.get(kind, name, namespace)
            if ((live or {}).get("metadata", {}).get("labels") or {}).get(names.NAME_LABEL) == self.spec["name"]:
                changes.append(reconcile.delete_object(self.resources, kind, name, namespace, check_mode))
        return changes

    def _wait_quota_counted(self, quota):
        """Until the host's quota controller has counted the namespace against the quota (status.hard set)."""
        if quota is None:
            return
        metadata = quota["metadata"]

        def counted(live):
            # Values, not only keys: admission checks against status.hard, so a limit raised (services.nodeports 0 to
            # 1 when the exposure becomes a NodePort) holds only once the controller has copied it there.
            hard = ((live or {}).get("status") or {}).get("hard") or {}
            wanted = ((live or {}).get("spec") or {}).get("hard") or {}
            return all(hard.get(resource) == limit for resource, limit in wanted.items())

        if not counted(quota):
            wait.wait_for(lambda: (counted(self.resources.get("ResourceQuota", metadata["name"], metadata["namespace"])),
                                   "status.hard not set yet"),
                          min(QUOTA_WAIT, self.options.wait_timeout), f"the host to count ResourceQuota {metadata['name']}")

    def _statefulset(self, replicas=None, annotations=None):
        return render_statefulset(self.spec, replicas, annotations)

    def _pki(self, endpoint, known_absent=False, previous=None):
        """previous: the check pass's PKI outcome this real pass follows."""
        spec = self.spec
        live = None if known_absent else self.resources.get("Secret", names.certs_secret(spec["name"]), spec["namespace"])
        data = _decoded_secret(live)
        params = layout.PkiParams(
            name=spec["name"], namespace=spec["namespace"], service_cidr=spec["networking"]["service_cidr"],
            dns_domain=spec["networking"]["dns_domain"], extra_sans=tuple(endpoint.sans),
            headless_service_name=names.headless_service(spec["name"]), algorithm=spec["pki"]["algorithm"])
        renew_before = datetime.timedelta(days=spec["pki"]["renew_before_days"])
        if data is None and previous is not None and previous.created:
            # The check pass generated a bundle moments ago for a Secret that still does not exist: keep it and
            # reissue only the leaves whose names changed since (the client Service's new cluster IP).
            layout.validate_params(params)
            now = self.options.now or certs.utcnow()
            renewal.renew(previous.bundle, params, renewal.due_leaves(previous.bundle, params, now, renew_before), now)
            return renewal.Outcome(previous.bundle, created=True)
        outcome = renewal.ensure_bundle(data, params, self.options.now, renew_before)
        self.record.warnings += [w for w in outcome.warnings if w not in self.record.warnings]
        return outcome

    # host checks, waiting, kubeconfig -----------------------------------------------------

    def _check_host(self):
        if isolation.runtime_class(self.spec):
            host.require_runtime_class(self.resources, isolation.runtime_class(self.spec), self.spec["isolation_mode"])
        self._check_host_range()

    def _check_host_range(self):
        """Before any write when a namespace to probe from exists (the vCluster's, else default); once."""
        if self._host_range_known:
            return
        self._namespace_read = host.namespace_state(self.resources, self.spec["namespace"])
        exists = self._namespace_read[0]
        found = host.host_service_range(self.resources, self.spec["namespace"] if exists else "default")
        if found:
            self._host_range_known = True
            validation.validate_host_service_range(self.spec, found)

    def _ready(self, replicas):
        live = self.resources.get("StatefulSet", names.statefulset(self.spec["name"]), self.spec["namespace"])
        return wait.statefulset_ready(live, replicas)[0]

    def _wait_ready(self, replicas):
        name = names.statefulset(self.spec["name"])

        def check():
            return wait.statefulset_ready(self.resources.get("StatefulSet", name, self.spec["namespace"]), replicas)

        try:
            wait.wait_for(check, self.options.wait_timeout, f"StatefulSet {self.spec['namespace']}/{name}")
        except KubeWaitTimeout as timeout:
            problems = host.pod_problems(self.resources, self.spec)
            raise KubeWaitTimeout(f"{timeout}" + (f" ({problems})" if problems else "")) from None

    def _resume_replicas(self):
        live = self.resources.get("StatefulSet", names.statefulset(self.spec["name"]), self.spec["namespace"])
        recorded = _annotations(live).get(names.PAUSED_REPLICAS_ANNOTATION)
        return int(recorded) if recorded and recorded.isdigit() and int(recorded) > 0 else None

    def _synced_pods(self):
        selector = f"{names.SYNCED_POD_LABEL}={self.spec['name']}"
        if not host.namespace_state(self.resources, self.spec["namespace"])[0]:
            return []
        return self.resources.list("Pod", self.spec["namespace"], label_selector=selector)

    def _claims(self, spec):
        selector = ",".join(f"{k}={v}" for k, v in names.selector_labels(spec["name"]).items())
        return [claim["metadata"]["name"] for claim in
                self.resources.list("PersistentVolumeClaim", spec["namespace"], label_selector=selector)]

    def _outcome(self, plan, changed):
        cluster = self.record.current()
        endpoint = plan.endpoint.server if plan.endpoint else (cluster.status.endpoint if cluster else None)
        summary = {"id": cluster.id if cluster else None, "name": self.spec["name"],
                   "phase": cluster.status.phase if cluster else None, "namespace": self.spec["namespace"],
                   "endpoint": endpoint}
        warnings = list(self.record.warnings) + (plan.endpoint.warnings if plan.endpoint else [])
        objects = [c.summary() for c in plan.changes] + [dict(c.summary(), cluster="virtual") for c in plan.virtual]
        outcome = Outcome(changed=changed, cluster=summary, objects=objects,
                          pki=pki_summary(plan.pki), warnings=warnings, diff=reconcile.diff_of(plan.changes))
        outcome.kubeconfig_path = self.record.kubeconfig_path()
        return outcome


def _owned_objects(spec):
    """(kind, name, namespace) of everything gpve creates for spec, in deletion order (workload first)."""
    name, namespace = spec["name"], spec["namespace"]
    objects = [("StatefulSet", names.statefulset(name), namespace), ("Ingress", names.ingress(name), namespace),
               ("Service", names.client_service(name), namespace), ("Service", names.headless_service(name), namespace),
               ("Secret", names.kubeconfig_secret(name), namespace), ("Secret", names.config_secret(name), namespace),
               ("Secret", names.certs_secret(name), namespace), ("ConfigMap", names.coredns_config_map(name), namespace),
               ("NetworkPolicy", names.network_policy(name), namespace),
               ("LimitRange", names.limit_range(name), namespace),
               ("ResourceQuota", names.resource_quota(name), namespace),
               ("RoleBinding", names.role(name), namespace), ("Role", names.role(name), namespace),
               ("ClusterRoleBinding", names.cluster_role(name, namespace), None),
               ("ClusterRole", names.cluster_role(name, namespace), None),
               ("ServiceAccount", names.workload_service_account(name), namespace),
               ("ServiceAccount", names.service_account(name), namespace)]
    return objects


def _live_of(changes, kind, name):
    for change in changes:
        if change.kind == kind and change.name == name:
            return change.live
    return None


def _annotations(obj):
    return ((obj or {}).get("metadata") or {}).get("annotations") or {}


def _replicas(statefulset, spec):
    if statefulset and (statefulset.get("spec") or {}).get("replicas"):
        return statefulset["spec"]["replicas"]
    return spec["control_plane"]["replicas"]


def _decoded_secret(secret):
    if not secret:
        return None
    return {key: base64.b64decode(value).decode("utf-8") for key, value in (secret.get("data") or {}).items()}


def pki_summary(outcome):
    if outcome is None:
        return {}
    return {"created": outcome.created, "renewed": dict(outcome.renewed), "algorithm": keys.algorithm_of(
        outcome.bundle.cas[layout.CLUSTER_CA].key)}
