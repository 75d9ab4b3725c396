# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run of gpve_vcluster with ``isolation_mode: vm``: the control plane is a single-node cluster on a Proxmox VM.

The VM is planned and built by the K8s-on-VM machinery (planner, k8s_vm.discovery and
k8s_vm.provision: clone, configure, start, guest-agent address; tags
``gpve-cluster-<id>``), with one difference: PVE's cloud-init user part comes from a
snippet (``cicustom``) the module writes, the user-data of vm_user_data.py, which puts the
module's CAs where k3s (or, with distro k8s, kubeadm) reads them and installs and starts k3s on
first boot (distro k8s: installs kubeadm from the air-gap bundle and runs kubeadm init, vm_kubeadm.py). So the
module mints the admin kubeconfig from its own bundle and never reads from the VM. The
bundle is kept encrypted in the registry (credential ``pki``), the kubeconfig and CA as
for every vCluster. The registry row is a vcluster with isolation_mode vm; the VM is its
node; the endpoint ``https://<vm address>:6443`` (or kubeconfig_server).

present: Pending -> Provisioning -> Initializing -> Starting (waits for ``/readyz`` with
the admin credentials) -> Running. suspended: Suspending -> Suspended, the VM shut down.
present again: Resuming (the VM started) -> Running. absent: Deleting -> Deleted, the VM
destroyed, the snippet and the credentials deleted. Check mode reads Proxmox and the
registry and writes nothing.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass

from ansible_collections.gpve.cluster.plugins.module_utils import files
from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle as L
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.k8s_vm import discovery, provision, recorder, registry_view
from ansible_collections.gpve.cluster.plugins.module_utils.k8s_vm.limits import Limits
from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
from ansible_collections.gpve.cluster.plugins.module_utils.kube import wait
from ansible_collections.gpve.cluster.plugins.module_utils.kube.reconcile import CREATED, DELETED, UNCHANGED, UPDATED
from ansible_collections.gpve.cluster.plugins.module_utils.pki import bundle as bundles
from ansible_collections.gpve.cluster.plugins.module_utils.pki import layout, renewal
from ansible_collections.gpve.cluster.plugins.module_utils.planner import plan as plans
from ansible_collections.gpve.cluster.plugins.module_utils.planner import validate as machine_validate
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import errors as pve_errors
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import tasks, vm_ops
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds, stored_specs
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import names, run_record, service
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import vm_spec, vm_user_data

SNIPPET_MODE = 0o600
UNREGISTERED_ID = "unregistered"
# One readiness probe when not waiting; each probe of a wait at most this long.
PROBE_TIMEOUT = 2.0
WAIT_PROBE_TIMEOUT = 5.0
VM_KIND, USER_DATA_KIND = "VirtualMachine", "CloudInitSnippet"


@dataclass
class Prepared:
    """Everything a run decides from reads only."""

    machine: dict
    view: object
    env: object
    plan: plans.Plan
    pki: renewal.Outcome
    certs_data: dict
    user_data: str

    @property
    def vm(self):
        return self.plan.vms[0]


@dataclass
class Change:
    """What happened to one thing a vm-mode vCluster owns (the VM, the user-data snippet)."""

    kind: str
    name: str
    action: str

    @property
    def changed(self):
        return self.action not in (UNCHANGED, "absent")

    def summary(self):
        return {"kind": self.kind, "name": self.name, "namespace": None, "action": self.action}


class VmVClusterRun:
    """The run of one vm-mode vCluster. client_factory: () -> a proxmox ProxmoxClient.

    Its registry side (phases, PKI events, credentials, the outcome) is a run_record.RunRecord, as service.VClusterRun's.
    """

    def __init__(self, spec, options, store, client_factory, task_timeout=tasks.DEFAULT_TASK_TIMEOUT):
        self.spec = spec
        self.options = options
        self.store = store
        self.record = run_record.RunRecord(spec, options, store)
        self._client_factory = client_factory
        self._client = None
        self.task_timeout = task_timeout

    @property
    def client(self):
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    @property
    def cluster(self):
        return self.record.cluster

    def run(self):
        """No host cluster to check: what a VM needs is checked by vm_spec.validate and against Proxmox in _prepare."""
        state = self.record.start()
        if state == run_record.ABSENT:
            return self._absent()
        if state == run_record.SUSPENDED:
            return self._suspended()
        return self._present()

    # present ------------------------------------------------------------------------------

    def _present(self):
        phase = self.record.phase()
        self.record.refuse_while_deleting(phase)
        prepared = self._prepare()
        vm = prepared.vm
        known_ip = vm.ip or prepared.view.known_ips().get(vm.name)
        admin = self._admin_kubeconfig(prepared.pki, self._server(known_ip)) if known_ip else None
        snippet_pending = not files.holds(vm_spec.snippet_path(self.spec), prepared.user_data, SNIPPET_MODE)
        pki_pending = self._stored_pki() != _pki_text(prepared.certs_data)
        admin_plan = service.Plan(pki=prepared.pki, admin_kubeconfig=admin)
        kubeconfig_pending = admin is None or self.record.kubeconfig_pending(admin_plan)
        changes = self._changes(prepared, snippet_pending)
        nothing_to_do = (phase == L.RUNNING and not prepared.plan.changes_anything and not prepared.pki.changed
                         and not snippet_pending and not pki_pending and not kubeconfig_pending
                         and self.record.unchanged_spec())
        if self.options.check_mode or nothing_to_do:
            return self._vm_outcome(changes, prepared.pki, self._server(known_ip) if known_ip else None,
                                    changed=not nothing_to_do)
        self.record.route = run_record.ROUTES[phase]
        self.record.record()
        if prepared.plan.cluster_id != self.cluster.id:
            prepared.plan = self._plan(prepared.machine, prepared.view, prepared.env, self.cluster.id)
        server = self.record.guarded(lambda: self._bring_up(prepared))
        return self._vm_outcome(changes, prepared.pki, server, changed=True)

    def _bring_up(self, prepared):
        self.record.enter("base")
        self._store_pki(prepared)
        self.record.record_pki(prepared.pki)
        files.write_atomically(vm_spec.snippet_path(self.spec), prepared.user_data, SNIPPET_MODE)
        record = recorder.Recorder(self.store)
        record.cluster_id = self.cluster.id
        record.reserve(prepared.machine, prepared.plan)
        self.record.enter("workload")
        built = self._build(prepared)
        record.node(prepared.machine, prepared.vm, built.ip)
        server = self._server(built.ip)
        plan = service.Plan(pki=prepared.pki, admin_kubeconfig=self._admin_kubeconfig(prepared.pki, server))
        self.record.write_kubeconfig(plan)
        self.record.enter("wait")
        record.set_status(endpoint=server, node_count=1)
        if self.options.wait:
            self._wait_ready_at(server, plan.admin_kubeconfig)
        elif not self._answers(plan.admin_kubeconfig, PROBE_TIMEOUT)[0]:
            self.record.warnings.append(f"not waiting (wait=false): the vCluster stays {self.record.phase()} until a run "
                                        f"finds {server}/readyz answering")
            return server
        self.record.enter("done", endpoint=server, version=self.spec["kubernetes_version"])
        return server

    def _build(self, prepared):
        plan, vm = prepared.plan, prepared.vm
        context = provision.Context(client=self.client, settings=vm_ops.TaskSettings(timeout=self.task_timeout),
                                    limits=Limits(1, 1), cluster_id=plan.cluster_id, cluster_name=self.spec["name"],
                                    agent_timeout=self.options.wait_timeout)
        for stray in plan.delete:
            provision.destroy(context, stray)
            self.store.add_event(self.cluster.id, "Normal", "VMDeleted", f"{stray.name} (vmid {stray.vmid} on "
                                 f"{stray.node}) is not part of the plan: destroyed")
        if vm.name in plan.unchanged:
            return provision.observe(context, vm, prepared.view.known_ips().get(vm.name))
        existing = {found.name: found for found in prepared.env.cluster_vms}
        built = provision.build(context, vm, existing.get(vm.name))
        if built.changed:
            self.store.add_event(self.cluster.id, "Normal", "VMProvisioned", f"{vm.name} (vmid {vm.vmid} on "
                                 f"{vm.proxmox_node}): {', '.join(built.actions)}; address {built.ip}",
                                 metadata={"vm": vm.name, "vmid": vm.vmid, "actions": built.actions})
        return built

    # suspended ----------------------------------------------------------------------------

    def _suspended(self):
        if self.cluster is None:
            raise ValidationError("state", f"vCluster {self.spec['name']} does not exist; create it with state=present "
                                  "before suspending it")
        phase = self.record.phase()
        running = [vm for vm in self._cluster_vms() if vm.running]
        changes = [Change(VM_KIND, vm.name, "stopped") for vm in running]
        if phase == L.SUSPENDED and not running:
            return self._vm_outcome([Change(VM_KIND, vm_spec.vm_name(self.spec), UNCHANGED)], None, None, changed=False)
        if self.options.check_mode:
            return self._vm_outcome(changes, None, None, changed=True)
        self.record.route = run_record.SUSPEND_ROUTE if phase != L.SUSPENDING else {"done": [L.SUSPENDED]}
        self.record.record()
        self.record.guarded(lambda: self._shut_down(running))
        return self._vm_outcome(changes, None, None, changed=True)

    def _shut_down(self, running):
        self.record.enter("base")
        settings = vm_ops.TaskSettings(timeout=self.task_timeout)
        for vm in running:
            try:
                vm_ops.shutdown(self.client, settings, vm.node, vm.vmid, timeout=int(self.options.wait_timeout))
            except pve_errors.ProxmoxError as exc:
                raise provision.VmProvisioningError(vm.name, vm.vmid, vm.node, "shutdown", exc) from exc
        self.store.add_event(self.cluster.id, "Normal", "VMSuspended", f"{len(running)} VM shut down; the disk keeps "
                             "the data", metadata={names.PAUSED_AT_ANNOTATION: self.record.now_text()})
        self.record.enter("done")

    # absent -------------------------------------------------------------------------------

    def _absent(self):
        if self.cluster is None:
            return self._vm_outcome([], None, None, changed=False)
        spec = stored_specs.spec_of(self.cluster)
        vms = self._cluster_vms()
        snippet = vm_spec.snippet_path(spec) if (spec.get("vm") or {}).get("snippets_dir") else None
        changes = [Change(VM_KIND, vm.name, DELETED) for vm in vms]
        if snippet and os.path.exists(snippet):
            changes.append(Change(USER_DATA_KIND, os.path.basename(snippet), DELETED))
        if self.options.check_mode:
            return self._vm_outcome(changes, None, None, changed=True)
        self.record.route = run_record.DELETE_ROUTE
        self.record.guarded(lambda: self._tear_down_vm(vms, snippet))
        return self._vm_outcome(changes, None, None, changed=True)

    def _tear_down_vm(self, vms, snippet):
        self.record.enter("base")
        context = provision.Context(client=self.client, settings=vm_ops.TaskSettings(timeout=self.task_timeout),
                                    limits=Limits(1, 1), cluster_id=self.cluster.id, cluster_name=self.spec["name"],
                                    agent_timeout=self.options.wait_timeout)
        for vm in vms:
            provision.destroy(context, vm)
            self.store.add_event(self.cluster.id, "Normal", "VMDeleted", f"{vm.name} (vmid {vm.vmid} on {vm.node}) "
                                 "destroyed")
        if snippet and os.path.exists(snippet):
            os.unlink(snippet)
        for info in self.store.list_credentials(cluster_id=self.cluster.id):
            self.store.delete_credential(self.cluster.id, info.type)
        record = recorder.Recorder(self.store)
        record.cluster_id = self.cluster.id
        record.final_nodes([])
        self.record.enter("done")

    # reads --------------------------------------------------------------------------------

    def _prepare(self):
        machine = vm_spec.machine_spec(self.spec)
        view = registry_view.read_for(self.store, self.cluster)
        env = discovery.discover(self.client, machine, view.cluster_id)
        try:
            machine_validate.validate_environment(machine, env, view.taken_ips)
        except ValidationError as error:
            raise vm_spec.renamed(error) from None
        plan = self._plan(machine, view, env, view.cluster_id or UNREGISTERED_ID)
        pki = self._vm_pki(plan.vms[0].ip)
        certs_data = bundles.secret_data(pki.bundle)
        user_data = vm_user_data.render(self.spec, certs_data, address=plan.vms[0].ip)
        return Prepared(machine, view, env, plan, pki, certs_data, user_data)

    def _plan(self, machine, view, env, cluster_id):
        vm = self.spec["vm"]
        options = plans.Options(node=vm["node"], storage=vm["storage"], full_clone=vm["full_clone"],
                                vmid_start=vm["vmid_start"], cicustom=vm_spec.cicustom(self.spec))
        try:
            return plans.build(machine, cluster_id, env, options, taken_ips=view.taken_ips,
                               reserved_vmids=view.reserved_vmids, known_ips=view.known_ips())
        except ValidationError as error:
            raise vm_spec.renamed(error) from None

    def _cluster_vms(self):
        return discovery.cluster_vms(self.client, vm_ops.list_vms(self.client), self.cluster.id, self.spec["name"])

    def _vm_pki(self, static_ip):
        spec = self.spec
        stored = self._stored_pki()
        sans = tuple(spec["pki"]["extra_sans"]) + ((static_ip,) if static_ip else ())
        params = layout.PkiParams(
            name=spec["name"], namespace=spec["namespace"], service_cidr=spec["networking"]["service_cidr"],
            dns_domain=spec["networking"]["dns_domain"], extra_sans=sans,
            headless_service_name=names.headless_service(spec["name"]), algorithm=spec["pki"]["algorithm"])
        outcome = renewal.ensure_bundle(json.loads(stored) if stored else None, params, self.options.now,
                                        _days(spec["pki"]["renew_before_days"]))
        self.record.warnings += [w for w in outcome.warnings if w not in self.record.warnings]
        return outcome

    def _stored_pki(self):
        if self.cluster is None:
            return None
        if not any(info.type == kinds.PKI for info in self.store.list_credentials(cluster_id=self.cluster.id)):
            return None
        return self.store.get_credential(self.cluster.id, kinds.PKI).text

    def _store_pki(self, prepared):
        text = _pki_text(prepared.certs_data)
        if self._stored_pki() != text:
            self.store.put_credential(self.cluster.id, kinds.PKI, text)

    # endpoint, kubeconfig, readiness -------------------------------------------------------

    def _server(self, ip):
        if self.options.kubeconfig_server:
            return self.options.kubeconfig_server
        host = f"[{ip}]" if ":" in str(ip) else ip
        return f"https://{host}:{vm_spec.API_PORT}"

    def _admin_kubeconfig(self, pki, server):
        return bundles.vcluster_kubeconfig_data(pki.bundle, server, names.context(self.spec["name"]))[
            bundles.VCLUSTER_CONFIG]

    @staticmethod
    def _answers(admin_kubeconfig, timeout):
        """(ready, detail) of one GET /readyz with the admin credentials."""
        connection = connect(kubeconfig=admin_kubeconfig)
        try:
            answer = connection.request("GET", "/readyz", timeout=timeout)
        except Exception as exc:  # pylint: disable=broad-except
            return False, str(exc)
        finally:
            connection.close()
        return answer.status == 200, f"/readyz answered {answer.status} {answer.reason}"

    def _wait_ready_at(self, server, admin_kubeconfig):
        timeout = self.options.wait_timeout
        probe = min(WAIT_PROBE_TIMEOUT, max(1.0, float(timeout)))
        wait.wait_for(lambda: self._answers(admin_kubeconfig, probe), timeout,
                      f"{'kubeadm' if self.spec['distro'] == 'k8s' else 'k3s'} API server of vCluster "
                      f"{self.spec['name']} at {server} (GET /readyz with the admin credentials)")

    # result -------------------------------------------------------------------------------

    def _changes(self, prepared, snippet_pending):
        vm, plan = prepared.vm, prepared.plan
        if vm.name in plan.create:
            action = CREATED
        elif vm.name in plan.update or vm.name in plan.start:
            action = UPDATED
        else:
            action = UNCHANGED
        changes = [Change(VM_KIND, vm.name, action)]
        changes += [Change(VM_KIND, stray.name, DELETED) for stray in plan.delete]
        changes.append(Change(USER_DATA_KIND, vm_spec.snippet_name(self.spec), UPDATED if snippet_pending
                              and os.path.exists(vm_spec.snippet_path(self.spec)) else
                              CREATED if snippet_pending else UNCHANGED))
        return changes

    def _vm_outcome(self, changes, pki, server, changed):
        cluster = self.record.current()
        summary = {"id": cluster.id if cluster else None, "name": self.spec["name"],
                   "phase": cluster.status.phase if cluster else None, "namespace": None,
                   "endpoint": server or (cluster.status.endpoint if cluster else None)}
        existed = (UPDATED, DELETED, UNCHANGED)
        diff = {"before": {c.kind + "/" + c.name: "present" for c in changes if c.action in existed},
                "after": {c.kind + "/" + c.name: c.action for c in changes if c.action != DELETED}}
        outcome = service.Outcome(changed=changed, cluster=summary, objects=[c.summary() for c in changes],
                                  pki=service.pki_summary(pki), warnings=list(self.record.warnings), diff=diff)
        outcome.kubeconfig_path = self.record.kubeconfig_path()
        return outcome


def _pki_text(certs_data):
    return json.dumps(certs_data, sort_keys=True)


def _days(count):
    return datetime.timedelta(days=count)
