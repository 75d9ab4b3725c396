# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything a run writes to the registry: the cluster row, its nodes, events and phases.

Only the main thread writes (a registry Store is for one thread). Node writes compare
with what is stored, so recording the same nodes again writes nothing.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.planner import naming
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds, stored_specs
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import AddressInUse

NORMAL = 'Normal'
WARNING = 'Warning'
NODE_PENDING = 'Pending'
NODE_RUNNING = 'Running'


def node_record(spec, vm, ip, status):
    """The registry node of a planned VM."""
    section = spec['control_plane'] if vm.role == naming.ROLE_CONTROL_PLANE else None
    if vm.role == naming.ROLE_WORKER:
        section = next(pool for pool in spec['workers'] if pool['name'] == vm.pool)
    labels = dict((str(k), str(v)) for k, v in ((section or {}).get('labels') or {}).items())
    resources = dict(vm.resources, proxmox_node=vm.proxmox_node, disk_size=vm.disk_size,
                     additional_disks=[dict(d) for d in vm.additional_disks])
    return {'name': vm.name, 'vmid': str(vm.vmid), 'role': vm.role, 'pool_name': vm.pool, 'ip_address': ip,
            'status': status, 'labels': labels, 'taints': list((section or {}).get('taints') or []),
            'resources': resources}


class Recorder:
    def __init__(self, store):
        self.store = store
        self.cluster_id = None
        self.changed = False

    # ------------------------------------------------------------- cluster row

    def register(self, spec):
        cluster = self.store.create_cluster(spec['name'], kinds.K8S_VM, spec=stored_specs.to_stored(kinds.K8S_VM, spec),
                                            labels=spec['labels'], provider='proxmox', message='registered by gpve_k8s_vm')
        self.cluster_id = cluster.id
        self.changed = True
        return cluster

    def update_spec(self, cluster, spec):
        self.cluster_id = cluster.id
        if stored_specs.to_stored(kinds.K8S_VM, stored_specs.spec_of(cluster)) == stored_specs.to_stored(kinds.K8S_VM, spec) \
                and dict(cluster.labels or {}) == spec['labels']:
            return cluster  # the same desired state (a spec stored in the older form included)
        updated = self.store.update_cluster(cluster.id, cluster.resource_version, spec=stored_specs.to_stored(kinds.K8S_VM, spec),
                                            labels=spec['labels'])
        if updated.resource_version != cluster.resource_version:
            self.changed = True
            self.event(NORMAL, 'SpecUpdated', 'desired state changed')
        return updated

    # ------------------------------------------------------------------ events

    def event(self, kind, reason, message, metadata=None):
        self.store.add_event(self.cluster_id, kind, reason, message, metadata)
        self.changed = True

    def phase(self, to_phase, trigger, message=None, **fields):
        """Move to to_phase if not there yet; returns the phase the cluster is in."""
        status, event = lifecycle.transition(self.store, self.cluster_id, to_phase, trigger, message, **fields)
        if event is not None:
            self.changed = True
        return status.phase

    def current_phase(self):
        return self.store.get_status(self.cluster_id).phase

    def fail(self, reason, message):
        """Failed with the reason, from whatever live phase the cluster is in."""
        if lifecycle.allowed(self.current_phase(), lifecycle.FAILED):
            self.phase(lifecycle.FAILED, reason, message)
        self.event(WARNING, reason, message)

    def set_status(self, **fields):
        status = self.store.get_status(self.cluster_id)
        wanted = dict((key, value) for key, value in fields.items() if getattr(status, key) != value)
        if wanted:
            self.store.update_status(self.cluster_id, **wanted)
            self.changed = True

    # ------------------------------------------------------------------- nodes

    def _upsert(self, records):
        before = dict((node.name, node.resource_version) for node in self.store.list_nodes(self.cluster_id))
        after = _claiming(self.store.upsert_nodes, self.cluster_id, records)
        if any(before.get(node.name) != node.resource_version for node in after if node.name in
               set(r['name'] for r in records)):
            self.changed = True
        return after

    def reserve(self, spec, plan):
        """Record every planned VM not yet known, as Pending with its planned VMID and address.

        The registry refuses an address another live cluster holds, in a write that runs alone:
        two runs planning at once cannot both claim one address.
        """
        known = set(node.name for node in self.store.list_nodes(self.cluster_id))
        records = [node_record(spec, vm, vm.ip, NODE_PENDING) for vm in plan.vms if vm.name not in known]
        if records:
            self._upsert(records)

    def node(self, spec, vm, ip, status=NODE_RUNNING):
        self._upsert([node_record(spec, vm, ip, status)])

    def final_nodes(self, records):
        before = dict((node.name, node.resource_version) for node in self.store.list_nodes(self.cluster_id))
        after = _claiming(self.store.replace_nodes, self.cluster_id, records)
        if before != dict((node.name, node.resource_version) for node in after):
            self.changed = True
        return after


def _claiming(write, cluster_id, records):
    """A node write that claims the nodes' addresses for this cluster only."""
    try:
        return write(cluster_id, records, exclusive_ips=True)
    except AddressInUse as exc:
        raise ValidationError('network.vm_network.ip_range', 'address {0} is already held by cluster {1} (it claimed '
                              'it while this run was planning); run again to plan around it'.format(
                                  exc.ip_address, exc.holder)) from exc
