"""etcd backup and restore for real on the package's cluster (3 control planes, stacked etcd), then its deletion.

backup.yml finds the control planes through the gpve inventory's group real_control_plane, snapshots the first
member with the etcdctl of the member's own etcd image, checks it with etcdutl snapshot status and archives it with
the cluster's resources; restore_etcd.yml restores it on all three members; gpve_cluster_backup copies a namespace
from the same backup into another; delete.yml takes a last snapshot to the controller, then every VM goes. Runs last
in the package (conftest.LAST_MODULES): the restore rolls the cluster back, the delete ends it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.playbook_run import ansible_env, run_playbook
from tests.real_cluster import PLAY_TIMEOUT, REPO, SSH_USER
from tests.testbed import binaries
from tests.testbed.processes import wait_until

pytestmark = [pytest.mark.k8s_vm, pytest.mark.roles, pytest.mark.testbed, pytest.mark.backup]

BACKUP_PLAYBOOKS = REPO / "playbooks" / "backup"
PROBE = "backup-probe"          # the objects the restore is judged by
COPY = "backup-probe-copy"      # where gpve_cluster_backup restores PROBE's objects
SECRET = "kept-in-the-backup"   # a Secret's value: sealed in the archive, the same once restored
NODES = ["real-cp-1", "real-cp-2", "real-cp-3", "real-general-1", "real-general-2"]
BUMP = 1_000_000_000            # etcd_backup_bump_revision's default: every restored member's revision is above it
ETCD_TOOLS = "/usr/local/lib/gpve/etcd"
ETCDCTL = (f"$(ls {ETCD_TOOLS}/*/etcdctl | head -n1) --endpoints=https://127.0.0.1:2379 "
           "--cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt "
           "--key=/etc/kubernetes/pki/etcd/healthcheck-client.key")


class Restored(NamedTuple):
    cluster: object
    env: dict
    work: Path
    backup: subprocess.CompletedProcess
    backup_id: str
    before_uid: str
    restore: subprocess.CompletedProcess
    restore_seconds: float
    restored_at: datetime


def _configmap(name: str, made: str) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data={"made": made})


def _backups(cluster) -> list:
    with open_registry(str(cluster.registry_path), actor="real-cluster-tests") as store:
        return store.list_backups(cluster_id=store.find_cluster(cluster.name).id)


def _etcdutl_status(path: Path) -> dict:
    out = subprocess.run([str(binaries.tool("etcdutl") / "etcdutl"), "snapshot", "status", str(path), "-w", "json"],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_a_cluster_without_control_planes_in_the_inventory_stops_the_backup(tmp_path):
    """The group the playbooks targeted before (control_plane) was never made, and they did nothing without a word."""
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[control_plane]\nsomewhere ansible_host=192.0.2.1\n")
    run = run_playbook(BACKUP_PLAYBOOKS / "backup.yml", {"gpve_cluster_name": "lab-1"},
                       ansible_env({"ANSIBLE_INVENTORY": str(inventory)}), tmp_path / "backup.log")
    assert run.returncode != 0
    assert "the inventory has no host in group lab_1_control_plane" in run.stdout, run.stdout[-3000:]


@pytest.fixture(scope="module")
def restored(real_cluster, tmp_path_factory) -> Restored:
    """backup.yml, then a ConfigMap of before the snapshot deleted and one made after it, then restore_etcd.yml."""
    cluster, created = real_cluster
    assert created.returncode == 0, created.stdout[-3000:]
    work = tmp_path_factory.mktemp("backup")
    # A user's inventory of the registry (GPVE_REGISTRY); the nodes' SSH user as a site gives it.
    inventory = work / "real.gpve.yml"
    inventory.write_text(yaml.safe_dump({"plugin": "gpve.cluster.gpve", "compose": {"ansible_user": f"'{SSH_USER}'"}}))
    # gpve_cluster_backup reads the snapshot's status on the controller too: etcdutl there, as etcd-client gives it.
    env = dict(cluster.env, ANSIBLE_INVENTORY=str(inventory),
               PATH=f"{binaries.tool('etcdutl')}{os.pathsep}{cluster.env['PATH']}")
    core = client.CoreV1Api(cluster.api())
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=PROBE)))
    before = core.create_namespaced_config_map(PROBE, _configmap("before", "before the snapshot"))
    core.create_namespaced_secret(PROBE, client.V1Secret(metadata=client.V1ObjectMeta(name="before-secret"),
                                                         string_data={"token": SECRET}))
    backup = run_playbook(BACKUP_PLAYBOOKS / "backup.yml",
                          {"gpve_cluster_name": cluster.name,
                           "gpve_backup_options": {"storage": {"type": "local", "path": str(work / "archives")}}},
                          env, work / "backup.log", timeout=PLAY_TIMEOUT)
    assert backup.returncode == 0, backup.stdout[-6000:]
    backups = _backups(cluster)
    assert len(backups) == 1, backups

    core.delete_namespaced_config_map("before", PROBE)
    core.create_namespaced_config_map(PROBE, _configmap("after", "after the snapshot"))
    started = time.monotonic()
    # No gpve_cluster_name: the cluster is the backup's, its control planes the inventory's real_control_plane.
    restore = run_playbook(BACKUP_PLAYBOOKS / "restore_etcd.yml",
                           {"gpve_backup_id": backups[0].id, "gpve_distribution": "kubeadm"},
                           env, work / "restore.log", timeout=PLAY_TIMEOUT)
    return Restored(cluster, env, work, backup, backups[0].id, before.metadata.uid, restore,
                    time.monotonic() - started, datetime.now(timezone.utc))


def test_backup_snapshots_a_member_with_its_own_etcd_tools(restored):
    cluster = restored.cluster
    shown = re.search(r"backup (\S+): (\d+) objects and the etcd snapshot of (\S+) \((\d+) keys, revision (\d+), "
                      r"(\d+) bytes\)", restored.backup.stdout)
    assert shown, restored.backup.stdout[-4000:]
    backup_id, _objects, member, keys, _revision, size = shown.groups()
    assert (backup_id, member) == (restored.backup_id, "real-cp-1")
    assert int(keys) > 100 and int(size) > 0
    record = _backups(cluster)[0]
    assert record.status == "Completed"
    assert record.metadata["etcd"]["total_keys"] == int(keys)
    assert record.metadata["counts"]["configmaps"] >= 1
    archive = Path(record.storage_location.removeprefix("file://"))
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    # The tools are the etcd image's, copied out of it: none is installed on the node.
    assert cluster.ssh("real-cp-1", "command -v etcdctl || command -v etcdutl").stdout == ""
    tools = cluster.ssh("real-cp-1", f"ls {ETCD_TOOLS}; {ETCD_TOOLS}/*/etcdutl version")
    assert tools.returncode == 0, tools.stderr
    assert tools.stdout.splitlines()[0] == "registry.gpve.test_etcd_3.7.0-0", tools.stdout
    assert "etcdutl version: 3.7.0" in tools.stdout
    # The snapshot left the member once fetched.
    assert cluster.ssh("real-cp-1", "ls -A /var/lib/gpve/etcd-backup").stdout == ""


def test_restore_brings_back_the_snapshot_state(restored):
    assert restored.restore.returncode == 0, restored.restore.stdout[-8000:]
    core = client.CoreV1Api(restored.cluster.api())
    before = core.read_namespaced_config_map("before", PROBE)
    assert before.metadata.uid == restored.before_uid          # the object itself, back from etcd, not a copy
    assert before.data == {"made": "before the snapshot"}
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_config_map("after", PROBE)
    assert gone.value.status == 404
    print(f"restore_etcd.yml on 3 members: {restored.restore_seconds:.0f} s")


def test_every_member_is_restored_and_every_node_ready(restored):
    assert restored.restore.returncode == 0, restored.restore.stdout[-8000:]
    cluster = restored.cluster
    members = cluster.ssh("real-cp-1", f"{ETCDCTL} member list -w json; {ETCDCTL} endpoint status --cluster -w json")
    assert members.returncode == 0, members.stderr
    listed, statuses = (json.loads(line) for line in members.stdout.strip().splitlines()[-2:])
    assert sorted(m["name"] for m in listed["members"]) == ["real-cp-1", "real-cp-2", "real-cp-3"]
    assert len(statuses) == 3
    # Only a restore with etcdutl --bump-revision puts a member's revision above BUMP: all three were restored.
    assert all(s["Status"]["header"]["revision"] > BUMP for s in statuses), statuses
    assert len({s["Status"]["header"]["cluster_id"] for s in statuses}) == 1

    api = cluster.api()
    core, leases = client.CoreV1Api(api), client.CoordinationV1Api(api)

    def fresh_and_ready() -> bool:
        ready = {n.metadata.name: next(c.status for c in n.status.conditions if c.type == "Ready")
                 for n in core.list_node().items}
        renewed = {name: leases.read_namespaced_lease(name, "kube-node-lease").spec.renew_time for name in ready}
        return (sorted(ready) == NODES and set(ready.values()) == {"True"}
                and all(time_ > restored.restored_at for time_ in renewed.values()))
    wait_until(fresh_and_ready, 300, "every node Ready, its kubelet's lease renewed after the restore", interval=5)


def test_the_backup_restores_a_namespace_into_another(restored):
    assert restored.restore.returncode == 0, restored.restore.stdout[-8000:]
    play = restored.work / "copy.yml"
    play.write_text(yaml.safe_dump([{
        "name": "Restore the probe namespace of the backup into another", "hosts": "localhost",
        "connection": "local", "gather_facts": False,
        "tasks": [{"name": "Restore", "gpve.cluster.gpve_cluster_backup": {
            "state": "restored", "backup_id": restored.backup_id, "type": "resources",
            "include_namespaces": [PROBE], "namespace_mapping": {PROBE: COPY}}}]}], sort_keys=False))
    copied = run_playbook(play, {}, restored.env, restored.work / "copy.log")
    assert copied.returncode == 0, copied.stdout[-4000:]
    core = client.CoreV1Api(restored.cluster.api())
    assert core.read_namespaced_config_map("before", COPY).data == {"made": "before the snapshot"}
    secret = core.read_namespaced_secret("before-secret", COPY)
    assert base64.b64decode(secret.data["token"]).decode() == SECRET
    names = {c.metadata.name for c in core.list_namespaced_config_map(COPY).items}
    assert "after" not in names and "before" in names


def test_delete_takes_a_last_snapshot_then_every_vm_goes(restored):
    cluster = restored.cluster
    with open_registry(str(cluster.registry_path), actor="real-cluster-tests") as store:
        cluster_id = store.find_cluster(cluster.name).id
        events_before = len(store.list_events(cluster_id, limit=1000))
    final = restored.work / "final"
    deleted = cluster.play("delete", gpve_etcd_snapshot=True, gpve_etcd_snapshot_dir=str(final))
    assert deleted.returncode == 0, deleted.stdout[-6000:]

    snapshot = final / f"{cluster.name}-{cluster_id}-final.db"
    assert stat.S_IMODE(final.stat().st_mode) == 0o700 and stat.S_IMODE(snapshot.stat().st_mode) == 0o600
    status = _etcdutl_status(snapshot)
    assert status["totalKey"] > 100
    assert status["revision"] > BUMP                               # taken after the restore
    assert f"/registry/namespaces/{COPY}".encode() in snapshot.read_bytes()
    print(f"final snapshot: {snapshot.stat().st_size} bytes, status {status}")

    assert cluster.vms() == []
    with open_registry(str(cluster.registry_path), actor="real-cluster-tests") as store:
        assert store.get_cluster(cluster_id, include_deleted=True).status.phase == "Deleted"
        assert store.list_credentials(cluster_id=cluster_id) == []
        events = store.list_events(cluster_id, limit=1000)[::-1][events_before:]   # the delete's, oldest first
    reasons = [e.reason for e in events]        # (the shared cluster's scale test deleted a VM before this)
    snapshot_started = next(i for i, e in enumerate(events)
                            if e.reason == "StageStarted" and (e.metadata or {}).get("snapshot") == str(snapshot))
    assert snapshot_started < reasons.index("VMDeleted")           # the snapshot was on the controller first
