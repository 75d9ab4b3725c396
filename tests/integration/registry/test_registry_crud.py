"""The registry's store API, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime

import pytest
from registry_helpers import k8s_spec

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import AddressInUse, Conflict, DuplicateName, NotFound

pytestmark = pytest.mark.registry

UTC = datetime.timezone.utc


def soft_delete(store, cluster_id):
    for phase in ("Deleting", "Deleted"):
        lifecycle.transition(store, cluster_id, phase, "DeleteRequested", "test cleanup")


class TestClusters:

    def test_create_registers_pending_with_spec_status_and_event(self, store):
        created = store.create_cluster("alpha", "k8s-vm", spec=k8s_spec(proxmox={"node": "pve1"}), labels={"env": "prod"},
                                       annotations={"owner": "team-a"}, provider="proxmox")
        fetched = store.get_cluster(created.id)
        assert fetched == created
        assert fetched.spec == k8s_spec(proxmox={"node": "pve1"})  # unknown keys round-trip through ``extra``
        assert (fetched.status.phase, fetched.resource_version, fetched.status.resource_version) == ("Pending", 1, 1)
        assert fetched.created_at.tzinfo is not None and fetched.created_at.utcoffset() == datetime.timedelta(0)
        events = store.list_events(created.id)
        assert [(event.type, event.reason, event.metadata["to"]) for event in events] == [("Transition", "Registered", "Pending")]

    @pytest.mark.parametrize("cluster_type, spec", [
        ("vcluster", {"kubernetes_version": "1.37.2", "isolation_mode": "namespace", "sync_config": {"nodes": True},
                      "plugins": ["metrics"], "host_namespace": "vc-a"}),
        ("external", {"endpoint": "https://10.0.0.5:6443", "connection_config": {"timeout": 10}}),
        ("k8s-vm", k8s_spec(storage="local-lvm")),
    ])
    def test_specs_of_every_type_read_back_as_written(self, store, cluster_type, spec):
        created = store.create_cluster(f"c-{cluster_type}", cluster_type, spec=spec)
        assert store.get_cluster_by_name(f"c-{cluster_type}").spec == spec
        assert created.type == cluster_type

    @pytest.mark.parametrize("kwargs, field", [
        ({"type": "k8s-vm", "spec": {"kubernetes_version": "1.37.2"}}, "spec.distribution"),
        ({"type": "k8s-vm", "spec": k8s_spec(distribution="minikube")}, "spec.distribution"),
        ({"type": "openshift", "spec": {}}, "type"),
        ({"type": "external", "spec": {"endpoint": "https://x"}, "labels": {"env": 1}}, "labels"),
        ({"type": "vcluster", "spec": {"kubernetes_version": "1.37", "isolation_mode": "none"}}, "spec.isolation_mode"),
        ({"type": "k8s-vm", "spec": k8s_spec(kubernetes_version="1." * 20)}, "spec.kubernetes_version"),
    ])
    def test_invalid_input_is_refused_before_writing(self, store, kwargs, field):
        with pytest.raises(ValidationError) as caught:
            store.create_cluster("bad", **kwargs)
        assert caught.value.field == field
        assert store.count_clusters() == 0

    def test_names_are_unique_among_live_clusters_and_freed_by_delete(self, store):
        first = store.create_cluster("dup", "k8s-vm", spec=k8s_spec())
        with pytest.raises(DuplicateName):
            store.create_cluster("dup", "external", spec={"endpoint": "https://x"})
        soft_delete(store, first.id)
        with pytest.raises(NotFound):
            store.get_cluster(first.id)
        assert store.get_cluster(first.id, include_deleted=True).deleted_at is not None
        second = store.create_cluster("dup", "external", spec={"endpoint": "https://x"})
        assert store.get_cluster_by_name("dup").id == second.id
        assert {c.id for c in store.query_clusters(name="dup", include_deleted=True)} == {first.id, second.id}

    def test_queries_filter_by_type_phase_labels_name_and_ids(self, store):
        made = {}
        for index in range(6):
            labels = {"env": "prod" if index % 2 else "dev", "team": f"t{index % 3}"}
            made[index] = store.create_cluster(f"q{index}", "k8s-vm" if index < 4 else "external",
                                               spec=k8s_spec() if index < 4 else {"endpoint": "https://x"}, labels=labels)
        lifecycle.transition(store, made[1].id, "Provisioning", "Start")
        lifecycle.transition(store, made[4].id, "Connecting", "Import")

        def names(**filters):
            return [cluster.name for cluster in store.query_clusters(**filters)]

        assert names(type="external") == ["q4", "q5"]
        assert names(phase="Provisioning") == ["q1"]
        assert names(phase=["Provisioning", "Connecting"]) == ["q1", "q4"]
        assert names(labels={"env": "prod"}) == ["q1", "q3", "q5"]
        assert names(labels={"env": "prod", "team": "t0"}) == ["q3"]  # every label must match
        assert names(labels={"env": "prod", "team": "t9"}) == []
        assert names(labels={"env": "prod"}, type="k8s-vm") == ["q1", "q3"]
        assert names(name="q2") == ["q2"]
        assert names(ids=[made[5].id, made[0].id]) == ["q0", "q5"]
        assert names(ids=[]) == []
        assert store.count_clusters(labels={"env": "dev"}) == 3

    def test_label_keys_with_dots_slashes_and_quotes_match(self, store):
        labels = {"app.kubernetes.io/name": "api", 'odd"key': "v", "env": "prod"}
        store.create_cluster("lab", "external", spec={"endpoint": "https://x"}, labels=labels)
        store.create_cluster("other", "external", spec={"endpoint": "https://x"}, labels={"app.kubernetes.io/name": "db"})
        assert [c.name for c in store.query_clusters(labels={"app.kubernetes.io/name": "api", 'odd"key': "v"})] == ["lab"]
        assert [c.name for c in store.query_clusters(labels={'odd"key': "w"})] == []

    def test_pagination_walks_every_cluster_once_in_name_order(self, store):
        for index in range(23):
            store.create_cluster(f"p{index:02d}", "external", spec={"endpoint": "https://x"})
        pages = [store.query_clusters(limit=5, offset=offset) for offset in range(0, 25, 5)]
        assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
        assert [c.name for page in pages for c in page] == [f"p{index:02d}" for index in range(23)]
        assert [c.name for c in store.query_clusters(offset=20)] == ["p20", "p21", "p22"]

    def test_update_is_compare_and_swap_on_resource_version(self, store):
        cluster = store.create_cluster("cas", "k8s-vm", spec=k8s_spec())
        updated = store.update_cluster(cluster.id, 1, spec=k8s_spec(kubernetes_version="1.37.3"), labels={"env": "prod"})
        assert (updated.resource_version, updated.spec["kubernetes_version"], updated.labels) == (2, "1.37.3", {"env": "prod"})
        with pytest.raises(Conflict):
            store.update_cluster(cluster.id, 1, labels={"env": "dev"})
        assert store.get_cluster(cluster.id).labels == {"env": "prod"}
        unchanged = store.update_cluster(cluster.id, 2, labels={"env": "prod"})
        assert unchanged.resource_version == 2  # nothing to change: no write, no new version
        with pytest.raises(NotFound):
            store.update_cluster("0" * 32, 1, labels={})

    def test_status_fields_update_freely_or_by_cas_but_never_the_phase(self, store):
        cluster = store.create_cluster("st", "external", spec={"endpoint": "https://x"})
        beat = datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
        status = store.update_status(cluster.id, last_heartbeat=beat, node_count=3, ready_nodes=2,
                                     conditions=[{"type": "Ready", "status": "True"}], endpoint="https://x:6443")
        assert (status.last_heartbeat, status.node_count, status.ready_nodes, status.resource_version) == (beat, 3, 2, 2)
        assert status.conditions == [{"type": "Ready", "status": "True"}]
        with pytest.raises(Conflict):
            store.update_status(cluster.id, expected_version=1, pod_count=9)
        assert store.update_status(cluster.id, expected_version=2, pod_count=9).pod_count == 9
        with pytest.raises(ValidationError) as caught:
            store.update_status(cluster.id, phase="Running")
        assert caught.value.field == "phase"
        with pytest.raises(ValidationError):
            store.update_status(cluster.id, node_count=-1)
        with pytest.raises(ValidationError) as too_long:
            store.update_status(cluster.id, version="v" * 33)  # the column holds 32 characters
        assert too_long.value.field == "version"


class TestNodes:

    @staticmethod
    def node(name, ip, role="worker", **extra):
        return dict(name=name, role=role, ip_address=ip, vmid=100 + int(ip.rsplit(".", 1)[1]), status="Ready", **extra)

    def test_replace_upsert_and_bulk_read(self, store):
        first = store.create_cluster("n1", "k8s-vm", spec=k8s_spec())
        second = store.create_cluster("n2", "k8s-vm", spec=k8s_spec())
        nodes = store.replace_nodes(first.id, [self.node("cp-1", "10.0.0.1", "control-plane", labels={"zone": "a"}),
                                               self.node("w-1", "10.0.0.11"), self.node("w-2", "10.0.0.12")])
        assert [(n.name, n.role, n.vmid) for n in nodes] == [
            ("cp-1", "control-plane", "101"), ("w-1", "worker", "111"), ("w-2", "worker", "112")]
        store.upsert_nodes(second.id, [self.node("w-1", "10.0.1.11")])
        replaced = store.replace_nodes(first.id, [self.node("cp-1", "10.0.0.1", "control-plane", labels={"zone": "a"}),
                                                  self.node("w-1", "10.0.0.21")])
        by_name = {n.name: n for n in replaced}
        assert sorted(by_name) == ["cp-1", "w-1"]
        assert by_name["cp-1"].resource_version == 1  # unchanged node: not rewritten
        assert (by_name["w-1"].ip_address, by_name["w-1"].resource_version) == ("10.0.0.21", 2)
        bulk = store.nodes_for([first.id, second.id, "missing"])
        assert {key: [n.name for n in value] for key, value in bulk.items()} == {
            first.id: ["cp-1", "w-1"], second.id: ["w-1"], "missing": []}
        assert [n.name for n in store.replace_nodes(first.id, [by_name["cp-1"]])] == ["cp-1"]
        assert [n.name for n in store.list_nodes(first.id)] == ["cp-1"]

    def test_update_node_is_cas_when_asked(self, store):
        cluster = store.create_cluster("n3", "k8s-vm", spec=k8s_spec())
        store.replace_nodes(cluster.id, [self.node("w-1", "10.0.0.11")])
        updated = store.update_node(cluster.id, "w-1", expected_version=1, status="NotReady")
        assert (updated.status, updated.resource_version) == ("NotReady", 2)
        with pytest.raises(Conflict):
            store.update_node(cluster.id, "w-1", expected_version=1, status="Ready")
        with pytest.raises(NotFound):
            store.update_node(cluster.id, "w-9", status="Ready")

    def test_allocated_ips_cover_live_clusters_only(self, store):
        live = store.create_cluster("ip-live", "k8s-vm", spec=k8s_spec())
        gone = store.create_cluster("ip-gone", "k8s-vm", spec=k8s_spec())
        external = store.create_cluster("ip-ext", "external", spec={"endpoint": "https://x"})
        store.replace_nodes(live.id, [self.node("a", "10.0.0.2"), self.node("b", "10.0.0.3")])
        store.replace_nodes(gone.id, [self.node("a", "10.0.0.4")])
        store.replace_nodes(external.id, [self.node("a", "192.168.0.9"), dict(name="b", role="worker")])
        soft_delete(store, gone.id)
        assert [(a.ip_address, a.cluster_name, a.node_name) for a in store.allocated_ips()] == [
            ("10.0.0.2", "ip-live", "a"), ("10.0.0.3", "ip-live", "b"), ("192.168.0.9", "ip-ext", "a")]
        assert [a.ip_address for a in store.allocated_ips(type="k8s-vm")] == ["10.0.0.2", "10.0.0.3"]

    def test_exclusive_ips_refuse_an_address_another_live_cluster_holds(self, store):
        holder = store.create_cluster("ip-holder", "k8s-vm", spec=k8s_spec())
        claimer = store.create_cluster("ip-claimer", "k8s-vm", spec=k8s_spec())
        store.replace_nodes(holder.id, [self.node("a", "10.0.0.2")], exclusive_ips=True)
        with pytest.raises(AddressInUse) as caught:
            store.replace_nodes(claimer.id, [self.node("a", "10.0.0.5"), self.node("b", "10.0.0.2")], exclusive_ips=True)
        assert (caught.value.ip_address, caught.value.holder) == ("10.0.0.2", "ip-holder")
        assert store.list_nodes(claimer.id) == []  # nothing of the refused write was kept
        store.replace_nodes(holder.id, [self.node("a", "10.0.0.2")], exclusive_ips=True)  # its own address: fine
        soft_delete(store, holder.id)
        assert [n.ip_address for n in store.replace_nodes(claimer.id, [self.node("b", "10.0.0.2")], exclusive_ips=True)] == ["10.0.0.2"]

    def test_bulk_snapshot_has_clusters_status_and_nodes(self, store):
        for index in range(3):
            cluster = store.create_cluster(f"s{index}", "k8s-vm", spec=k8s_spec(), labels={"env": "prod" if index else "dev"})
            store.replace_nodes(cluster.id, [self.node(f"w-{i}", f"10.0.{index}.{i}") for i in range(1, index + 2)])
        snapshot = store.bulk_snapshot()
        assert [c.name for c in snapshot.clusters] == ["s0", "s1", "s2"]
        assert [len(snapshot.nodes[c.id]) for c in snapshot.clusters] == [1, 2, 3]
        assert [c.status.phase for c in snapshot.clusters] == ["Pending"] * 3
        assert [c.name for c in store.bulk_snapshot(labels={"env": "prod"}).clusters] == ["s1", "s2"]
        assert snapshot.as_dict()["clusters"][0]["created_at"].endswith("+00:00")


class TestEventsBackupsTemplates:

    def test_events_newest_first(self, store):
        cluster = store.create_cluster("ev", "external", spec={"endpoint": "https://x"})
        for index in range(5):
            store.add_event(cluster.id, "Normal", "Checked", f"check {index}", {"n": index})
        events = store.list_events(cluster.id, limit=3)
        assert [e.message for e in events] == ["check 4", "check 3", "check 2"]
        assert [e.reason for e in store.list_events(cluster.id, type="Transition")] == ["Registered"]

    def test_backup_records(self, store):
        cluster = store.create_cluster("bk", "k8s-vm", spec=k8s_spec())
        backup = store.create_backup(cluster.id, "etcd", storage_location="s3://b/1", metadata={"snapshot": "a"})
        assert (backup.status, backup.resource_version) == ("Pending", 1)
        done = store.update_backup(backup.id, expected_version=1, status="Completed", size_bytes=2 ** 40,
                                   completed_at=datetime.datetime(2026, 5, 1, tzinfo=UTC))
        assert (done.status, done.size_bytes, done.resource_version) == ("Completed", 2 ** 40, 2)
        with pytest.raises(Conflict):
            store.update_backup(backup.id, expected_version=1, status="Failed")
        second = store.create_backup(cluster.id, "resources")
        assert [b.id for b in store.list_backups(cluster_id=cluster.id)] == [second.id, backup.id]
        assert [b.id for b in store.list_backups(status="Completed")] == [backup.id]
        soft_delete(store, cluster.id)
        assert len(store.list_backups(cluster_id=cluster.id)) == 2  # backups outlive their cluster
        store.delete_backup(backup.id, expected_version=2)
        with pytest.raises(NotFound):
            store.get_backup(backup.id)


class TestAudit:

    def test_every_write_is_audited_with_the_actor(self, open_store):
        store = open_store(actor="awx:job/42@https://awx.example")
        cluster = store.create_cluster("au", "k8s-vm", spec=k8s_spec())
        store.update_cluster(cluster.id, 1, labels={"a": "b"})
        lifecycle.transition(store, cluster.id, "Provisioning", "Start")
        store.replace_nodes(cluster.id, [dict(name="w", role="worker")])
        store.put_credential(cluster.id, "token", "s3cr3t")
        entries = store.list_audit(cluster_id=cluster.id)
        assert [(e.action, e.entity) for e in entries] == [
            ("put", "credential"), ("replace", "nodes"), ("transition", "status"), ("update", "cluster"), ("create", "cluster")]
        assert {e.actor for e in entries} == {"awx:job/42@https://awx.example"}
        assert "s3cr3t" not in repr(entries)
        assert store.prune_audit(datetime.datetime.now(UTC) + datetime.timedelta(seconds=1)) == 5
