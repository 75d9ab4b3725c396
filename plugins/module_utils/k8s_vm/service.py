# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The K8s-on-VM provisioning service: one call per module run.

present: validate -> plan -> (check mode stops here) -> register (Pending) ->
Provisioning -> build VMs concurrently, bounded per Proxmox node and storage -> record
nodes and an event per VM -> Bootstrapping once every VM answers. With wait=False each guest agent is
asked once: VMs whose agent has not answered stay Pending, the phase stays where it is, and the result
counts the VMs that answer, so a playbook reruns the task (until/retries) and shows the count each time;
a rerun that finds nothing new writes nothing. absent: destroy every
VM carrying the cluster's tag, delete its credentials, keep the row soft-deleted with
its events. Everything that can be checked is checked before the first write.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Optional

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError, ValidationError, after_writes
from ansible_collections.gpve.cluster.plugins.module_utils.k8s_vm import (
    discovery, disruption, provision, recorder, registry_view, vmid_claims,
)
from ansible_collections.gpve.cluster.plugins.module_utils.k8s_vm.limits import Limits
from ansible_collections.gpve.cluster.plugins.module_utils.planner import plan as plans, spec as specs, validate
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import tasks, vm_ops
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds, stored_specs

# Tags of a cluster that has no registry id yet (check mode on a new cluster).
UNREGISTERED_ID = 'unregistered'
DEFAULT_AGENT_TIMEOUT = vm_ops.DEFAULT_AGENT_TIMEOUT


RESUME_PRESENT = ('fix the cause named above, then run the same task again: VMs already made are checked and kept, '
                  'the others are built (or run it with state: absent to remove every VM of the cluster)')
RESUME_ABSENT = 'fix the cause named above, then run state: absent again: it destroys the VMs that are left'


class ProvisioningFailed(GpveError):
    """Some VMs could not be brought to their plan; the others were recorded."""

    def __init__(self, failures):
        self.failures = failures
        super().__init__('; '.join(str(exc) for exc in failures))


@dataclasses.dataclass
class Request:
    spec: dict
    state: str = 'present'
    options: plans.Options = dataclasses.field(default_factory=plans.Options)
    default_bridge: Optional[str] = None
    task_timeout: int = tasks.DEFAULT_TASK_TIMEOUT
    agent_timeout: int = DEFAULT_AGENT_TIMEOUT
    per_node: int = 2
    per_storage: int = 4
    check_mode: bool = False
    wait: bool = True
    # Read the cluster's PodDisruptionBudgets and refuse a shrink whose drain one would block (k8s_vm/disruption.py).
    check_disruption_budgets: bool = False


class K8sVmService:
    def __init__(self, store, client_factory):
        self.store = store
        self._client_factory = client_factory
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def run(self, request):
        if request.state == 'absent':
            return self.absent(request)
        return self.present(request)

    # ------------------------------------------------------------------ present

    def plan(self, request):
        """Validate everything and plan; writes nothing. Returns (spec, registry view, environment, plan)."""
        validate.check_run_options(request.options, request.task_timeout, request.agent_timeout, request.per_node,
                                   request.per_storage)
        spec = specs.normalise(request.spec, request.default_bridge)
        validate.validate_spec(spec)
        view = registry_view.read(self.store, spec['name'])
        old_spec = None
        if view.cluster is not None:
            _refuse_while_deleting(view.cluster)
            old_spec = specs.normalise(stored_specs.spec_of(view.cluster))
            validate.validate_change(old_spec, spec)
        env = discovery.discover(self.client, spec, view.cluster_id)
        validate.validate_environment(spec, env, view.taken_ips)
        planned = self._build_plan(spec, view, env, request, view.cluster_id or UNREGISTERED_ID)
        if request.check_disruption_budgets and old_spec is not None:
            field_of = dict((member.name, member.field + '.replicas') for member in plans.members(old_spec))
            disruption.check(self.store, view.cluster, [vm.name for vm in planned.delete], field_of)
        return spec, view, env, planned

    @staticmethod
    def _build_plan(spec, view, env, request, cluster_id):
        return plans.build(spec, cluster_id, env, request.options, taken_ips=view.taken_ips,
                           reserved_vmids=view.reserved_vmids, known_ips=view.known_ips())

    def present(self, request):
        spec, view, env, planned = self.plan(request)
        spec_changes = view.cluster is None or specs.normalise(stored_specs.spec_of(view.cluster)) != spec
        if request.check_mode:
            nodes = _planned_nodes(planned, view)
            return _with_agents(_result(planned.changes_anything or spec_changes, _cluster_view(view.cluster, spec, planned),
                                        nodes, planned, env), nodes, check_mode=True)
        record = recorder.Recorder(self.store)
        if view.cluster is None:
            cluster = record.register(spec)
            planned = self._build_plan(spec, view, env, request, cluster.id)
        else:
            cluster = record.update_spec(view.cluster, spec)
        try:
            nodes = self._converge(record, spec, view, env, planned, request)
        except GpveError as exc:
            _record_failure(record, 'ProvisioningFailed', exc)
            made = self._made(record, planned)
            raise after_writes(exc, made, RESUME_PRESENT, made_summary(made)) from None
        except Exception as exc:
            _record_failure(record, 'ProvisioningFailed', exc)
            raise
        cluster = self.store.get_cluster(record.cluster_id)
        return _with_agents(_result(record.changed, _cluster_dict(cluster), nodes, planned, env), nodes)

    def _converge(self, record, spec, view, env, planned, request):
        phase = record.current_phase()
        work = planned.changes_anything or phase in (lifecycle.PENDING, lifecycle.PROVISIONING, lifecycle.FAILED)
        if work:
            phase = self._enter(record, phase, planned)
            record.reserve(spec, planned)
        outcomes, failures = self._build_all(record, spec, view, env, planned, request)
        _deleted, delete_failures = self._delete_all(record, planned.delete, request, planned.cluster_id,
                                                     planned.cluster_name)
        failures += delete_failures
        nodes = record.final_nodes(_final_records(spec, planned, outcomes, env))
        record.set_status(endpoint=planned.endpoint, node_count=len(planned.vms), version=spec['kubernetes_version'])
        if failures:
            raise failures[0] if len(failures) == 1 else ProvisioningFailed(failures)
        if all(outcome.answered for outcome in outcomes.values()):
            # VMs whose agents answer only now were added by an earlier attempt of this change (wait=False).
            answered_now = set(outcomes) - _answered(view)
            self._leave(record, phase, bool(planned.create) or bool(answered_now))
        order = dict((vm.name, n) for n, vm in enumerate(planned.vms))
        return [_node_dict(node) for node in sorted(nodes, key=lambda node: order.get(node.name, len(order)))]

    @staticmethod
    def _enter(record, phase, planned):
        if phase in (lifecycle.PENDING, lifecycle.FAILED):
            return record.phase(lifecycle.PROVISIONING, 'ProvisioningStarted', _summary(planned))
        if phase == lifecycle.RUNNING:
            scaling = planned.create or planned.delete
            return record.phase(lifecycle.SCALING if scaling else lifecycle.UPDATING, 'ChangeStarted', _summary(planned))
        if planned.changes_anything:  # a rerun that only looks again at the agents writes nothing
            record.event(recorder.NORMAL, 'Planned', _summary(planned))
        return phase

    @staticmethod
    def _leave(record, phase, added_vms):
        if phase == lifecycle.PROVISIONING:
            record.phase(lifecycle.BOOTSTRAPPING, 'VMsReady', 'every VM answers; bootstrap the distribution next')
        elif phase == lifecycle.UPDATING or (phase == lifecycle.SCALING and not added_vms):
            record.phase(lifecycle.RUNNING, 'ChangeDone', 'VMs match the spec')

    def _context(self, request, cluster_id, cluster_name, claims=None, guest_agent=True):
        settings = vm_ops.TaskSettings(timeout=request.task_timeout)
        return provision.Context(client=self.client, settings=settings, limits=Limits(request.per_node, request.per_storage),
                                 cluster_id=cluster_id, cluster_name=cluster_name, agent_timeout=request.agent_timeout,
                                 claims=claims, wait=request.wait, guest_agent=guest_agent)

    def _build_all(self, record, spec, view, env, planned, request):
        claims = vmid_claims.VmidClaims(self.client, [vm.vmid for vm in planned.vms], view.reserved_vmids)
        ctx = self._context(request, planned.cluster_id, planned.cluster_name, claims, specs.has_guest_agent(spec))
        existing = dict((vm.name, vm) for vm in env.cluster_vms)
        known = view.known_ips()
        answered = _answered(view)
        outcomes, failures = {}, []
        workers = ctx.limits.workers_for(planned.vms)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix='gpve-vm') as pool:
            futures = {}
            for vm in planned.vms:
                if vm.name in planned.unchanged:
                    futures[pool.submit(provision.observe, ctx, vm, known.get(vm.name), vm.name in answered)] = vm
                else:
                    futures[pool.submit(provision.build, ctx, vm, existing.get(vm.name))] = vm
            for future in as_completed(futures):
                vm = futures[future]
                try:
                    outcome = future.result()
                except GpveError as exc:
                    failures.append(exc)
                    continue
                if outcome.vmid != vm.vmid:  # re-planned: its id was taken by a concurrent run
                    vm = dataclasses.replace(vm, vmid=outcome.vmid)
                    record.event(recorder.NORMAL, 'VMIDReplanned', '{0}: vmid {1} was taken meanwhile; cloned as {2}'.format(
                        vm.name, futures[future].vmid, vm.vmid), {'vm': vm.name, 'vmid': vm.vmid})
                outcomes[vm.name] = outcome
                if outcome.changed:
                    record.event(recorder.NORMAL, 'VMProvisioned', '{0} (vmid {1} on {2}): {3}; address {4}'.format(
                        vm.name, vm.vmid, vm.proxmox_node, ', '.join(outcome.actions), outcome.ip),
                        {'vm': vm.name, 'vmid': vm.vmid, 'actions': outcome.actions})
                record.node(spec, vm, outcome.ip, recorder.NODE_RUNNING if outcome.answered else recorder.NODE_PENDING)
        return outcomes, failures

    def _delete_all(self, record, victims, request, cluster_id=None, cluster_name=None):
        if not victims:
            return [], []
        ctx = self._context(request, cluster_id, cluster_name)
        deleted, failures = [], []
        with ThreadPoolExecutor(max_workers=ctx.limits.workers_for(victims),
                                thread_name_prefix='gpve-rm') as pool:
            futures = dict((pool.submit(_destroy_within_limits, ctx, vm), vm) for vm in victims)
            for future in as_completed(futures):
                vm = futures[future]
                try:
                    future.result()
                except GpveError as exc:
                    failures.append(exc)
                    continue
                deleted.append(vm)
                record.event(recorder.NORMAL, 'VMDeleted', '{0} (vmid {1} on {2}) destroyed'.format(vm.name, vm.vmid, vm.node),
                             {'vm': vm.name, 'vmid': vm.vmid})
        return deleted, failures

    def _made(self, record, planned=None):
        """What a failed run leaves: the cluster (Failed, with the reason), every VM the registry records for it,
        the VMs that exist on Proxmox (exists: name, vmid, proxmox_node) and, creating, the planned VMs that do not
        (missing). A registry or Proxmox that fails here too must not hide the original error."""
        try:
            cluster = self.store.get_cluster(record.cluster_id)
            made = {'cluster': _cluster_dict(cluster),
                    'vms': [_node_dict(node) for node in self.store.list_nodes(cluster.id)]}
        except GpveError:
            made = {'cluster': {'id': record.cluster_id}, 'vms': []}
        exists = self._existing(record.cluster_id, made['cluster'].get('name') or (planned.cluster_name if planned else ''))
        if exists is not None:
            made['exists'] = exists
            if planned is not None:
                names = set(vm['name'] for vm in exists)
                made['missing'] = [vm.name for vm in planned.vms if vm.name not in names]
        return made

    def _existing(self, cluster_id, cluster_name):
        """The cluster's VMs on Proxmox now, by VMID; None when Proxmox cannot tell."""
        try:
            vms = discovery.cluster_vms(self.client, vm_ops.list_vms(self.client), cluster_id, cluster_name)
        except GpveError:
            return None
        return [{'name': vm.name, 'vmid': vm.vmid, 'proxmox_node': vm.node} for vm in sorted(vms, key=lambda vm: vm.vmid)]

    # ------------------------------------------------------------------- absent

    def absent(self, request):
        name = (request.spec or {}).get('name')
        validate.check_name({'name': name})
        cluster = self.store.find_cluster(name)
        if cluster is None:
            return _result(False, {'id': None, 'name': name, 'type': kinds.K8S_VM, 'phase': None,
                                   'endpoint': None}, [], {'delete': []}, None)
        vms = discovery.cluster_vms(self.client, vm_ops.list_vms(self.client), cluster.id, name)
        summary = {'delete': [{'name': vm.name, 'vmid': vm.vmid, 'proxmox_node': vm.node} for vm in vms]}
        if request.check_mode:
            return _result(True, _cluster_dict(cluster), [], summary, None)
        record = recorder.Recorder(self.store)
        record.cluster_id = cluster.id
        phase = record.current_phase()
        if not lifecycle.allowed(phase, lifecycle.DELETING) and phase != lifecycle.DELETING:
            record.phase(lifecycle.FAILED, 'DeleteRequested', 'interrupted by a deletion request')
        record.phase(lifecycle.DELETING, 'DeleteStarted', '{0} VMs to destroy'.format(len(vms)))
        _deleted, failures = self._delete_all(record, vms, request, cluster.id, name)
        if failures:
            error = failures[0] if len(failures) == 1 else ProvisioningFailed(failures)
            _record_failure(record, 'DeleteFailed', error)
            made = self._made(record)
            raise after_writes(error, made, RESUME_ABSENT, made_summary(made))
        for info in self.store.list_credentials(cluster_id=cluster.id):
            self.store.delete_credential(cluster.id, info.type)
        record.final_nodes([])
        record.phase(lifecycle.DELETED, 'Deleted', 'every VM destroyed, credentials deleted')
        cluster = self.store.get_cluster(cluster.id, include_deleted=True)
        return _result(True, _cluster_dict(cluster), [], summary, None)


def made_summary(made):
    """One sentence for the failure message: which VMs exist (name and VMID) and which planned ones do not."""
    if 'exists' not in made:
        return 'Proxmox could not be asked which VMs exist; see made.vms for what the registry recorded.'
    exists = ', '.join('{0} (vmid {1})'.format(vm['name'], vm['vmid']) for vm in made['exists']) or 'none'
    text = 'VMs that exist: {0}.'.format(exists)
    if 'missing' in made:
        text += ' Not made: {0}.'.format(', '.join(made['missing']) or 'none')
    return text


def _record_failure(record, reason, exc):
    """Failed with the reason; a registry that fails too must not hide the original error."""
    try:
        record.fail(reason, str(exc) or type(exc).__name__)
    except GpveError:
        pass


def _final_records(spec, planned, outcomes, env):
    """Registry nodes after a run: Running with the reported address and the VMID it got, or Pending for a VM not
    finished - with its VMID only when the VM exists and is this cluster's (a planned id another run took is
    never recorded)."""
    ours = set(vm.name for vm in env.cluster_vms)
    records = []
    for vm in planned.vms:
        done = outcomes.get(vm.name)
        if done is not None:
            status = recorder.NODE_RUNNING if done.answered else recorder.NODE_PENDING
            record = recorder.node_record(spec, dataclasses.replace(vm, vmid=done.vmid), done.ip, status)
        else:
            record = recorder.node_record(spec, vm, vm.ip, recorder.NODE_PENDING)
            if vm.name not in ours:
                record['vmid'] = None
        records.append(record)
    return records


def _destroy_within_limits(ctx, vm):
    with ctx.limits.hold(vm.node, 'destroy'):
        return provision.destroy(ctx, vm)


def _refuse_while_deleting(cluster):
    if cluster.status.phase == lifecycle.DELETING:
        raise ValidationError('state', 'cluster {0} is being deleted; run with state: absent to finish, then create it '
                                       'again'.format(cluster.name))


def _summary(planned):
    return 'plan: {0} to create, {1} to update, {2} to start, {3} to delete'.format(
        len(planned.create), len(planned.update), len(planned.start), len(planned.delete))


def _node_dict(node):
    return {'name': node.name, 'vmid': int(node.vmid) if node.vmid else None, 'role': node.role, 'pool': node.pool_name,
            'ip': node.ip_address, 'proxmox_node': (node.resources or {}).get('proxmox_node'), 'status': node.status}


def _answered(view):
    """Names of the cluster's VMs whose guest agent answered in an earlier run (registry node Running)."""
    return set(node.name for node in view.nodes if node.status == recorder.NODE_RUNNING)


def _planned_status(vm, planned, answered):
    if vm.name not in planned.unchanged:
        return 'Planned'
    return recorder.NODE_RUNNING if vm.name in answered else recorder.NODE_PENDING


def _planned_nodes(planned, view):
    known, answered = view.known_ips(), _answered(view)
    return [{'name': vm.name, 'vmid': vm.vmid, 'role': vm.role, 'pool': vm.pool, 'ip': vm.ip or known.get(vm.name),
             'proxmox_node': vm.proxmox_node, 'status': _planned_status(vm, planned, answered)} for vm in planned.vms]


def _with_agents(result, nodes, check_mode=False):
    """result with msg "N/M VMs answer" and agents {answer, total, waiting}: the VMs whose guest agent has not
    answered yet (none in check mode, which asks no agent)."""
    answer = sum(1 for node in nodes if node['status'] == recorder.NODE_RUNNING)
    waiting = [] if check_mode else [node['name'] for node in nodes if node['status'] != recorder.NODE_RUNNING]
    result['agents'] = {'answer': answer, 'total': len(nodes), 'waiting': waiting}
    result['msg'] = '{0}/{1} VMs answer'.format(answer, len(nodes)) + (' (check mode: no agent asked)' if check_mode else '')
    return result


def _cluster_dict(cluster):
    return {'id': cluster.id, 'name': cluster.name, 'type': cluster.type, 'phase': cluster.status.phase,
            'endpoint': cluster.status.endpoint}


def _cluster_view(cluster, spec, planned):
    if cluster is not None:
        return _cluster_dict(cluster)
    return {'id': None, 'name': spec['name'], 'type': kinds.K8S_VM, 'phase': None, 'endpoint': planned.endpoint}


def _vm_summary(vm):
    keys = ('vmid', 'proxmox_node', 'ip', 'role', 'pool', 'resources', 'disk_size')
    return dict((key, getattr(vm, key)) for key in keys)


def _result(changed, cluster, nodes, planned, env):
    result = {'changed': changed, 'cluster': cluster, 'nodes': nodes}
    if isinstance(planned, plans.Plan):
        result['plan'] = planned.as_dict()
        before = dict((vm.name, {'vmid': vm.vmid, 'proxmox_node': vm.node, 'status': vm.status})
                      for vm in (env.cluster_vms if env else []))
        after = dict((vm.name, _vm_summary(vm)) for vm in planned.vms)
        result['diff'] = {'before': {'vms': before}, 'after': {'vms': after}}
    else:
        result['plan'] = planned
        if planned:
            result['diff'] = {'before': {'vms': dict((vm['name'], vm) for vm in planned['delete'])},
                              'after': {'vms': {}}}
    return result
