"""The etcd_backup role on localhost against the testbed's etcd: snapshot, verify, fetch; then restore_member
into a new data dir that a fresh etcd serves; and the backup playbooks pass a syntax check."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests
import yaml
from backup_support import COLLECTIONS, REPO, local_storage, request

from tests.testbed.processes import free_ports, wait_until

# etcd, etcdctl and etcdutl are the testbed's (etcd 3.7), as a controller with the etcd client tools has them.
pytestmark = [pytest.mark.backup, pytest.mark.usefixtures("etcd_on_path")]


def _playbook(tmp_path, name, tasks):
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump([{"name": name, "hosts": "localhost", "connection": "local", "gather_facts": False,
                                     "tasks": tasks}], sort_keys=False))
    return path


def _ansible(*argv):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), PYTHONPATH=str(COLLECTIONS),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    bin_dir = os.path.dirname(sys.executable)
    return subprocess.run([os.path.join(bin_dir, argv[0]), *argv[1:], "-e", f"ansible_python_interpreter={sys.executable}"],
                          capture_output=True, text=True, env=env, timeout=600, check=False)


def _etcd_client_url(testbed):
    argv = testbed.component("etcd").argv
    return argv[argv.index("--listen-client-urls") + 1]


def test_role_snapshot_feeds_the_module_and_restore_member_gives_a_working_etcd(
        service, registered, testbed, namespaces, backup_dir, tmp_path):
    _store, cluster = registered
    namespace = namespaces("role")
    fetched = tmp_path / "fetched" / "snapshot.db"
    snapshot_play = _playbook(tmp_path, "snapshot", [{"name": "Snapshot", "ansible.builtin.include_role": {
        "name": "gpve.cluster.etcd_backup"}, "vars": {
        "etcd_backup_endpoints": [_etcd_client_url(testbed)], "etcd_backup_cacert": "", "etcd_backup_cert": "",
        "etcd_backup_key": "", "etcd_backup_remote_dir": str(tmp_path / "remote"),
        "etcd_backup_fetch_dest": str(fetched)}}])
    ran = _ansible("ansible-playbook", str(snapshot_play))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert fetched.is_file() and os.listdir(tmp_path / "remote") == []

    taken = service.run(request(cluster=cluster.name, type="etcd", etcd_snapshot=str(fetched),
                                storage=local_storage(backup_dir)))
    assert taken["etcd"]["total_keys"] > 0 and taken["etcd"]["endpoint"] is None
    written = tmp_path / "verified.db"
    service.run(request(state="restored", backup_id=taken["backup"]["id"], etcd_snapshot=str(written),
                        storage=local_storage(backup_dir)))
    assert (os.stat(written).st_mode & 0o777) == 0o600

    peer, client = (f"http://127.0.0.1:{port}" for port in free_ports(["127.0.0.1"] * 2))
    data_dir = tmp_path / "member-data"
    restore_play = _playbook(tmp_path, "restore", [{"name": "Restore", "ansible.builtin.include_role": {
        "name": "gpve.cluster.etcd_backup", "tasks_from": "restore_member"}, "vars": {
        "etcd_backup_snapshot": str(written), "etcd_backup_data_dir": str(data_dir), "etcd_backup_member_name": "m1",
        "etcd_backup_peer_url": peer, "etcd_backup_initial_cluster": f"m1={peer}"}}])
    ran = _ansible("ansible-playbook", str(restore_play))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    with open(tmp_path / "etcd.log", "wb") as log:
        fresh = subprocess.Popen(["etcd", "--name", "m1", "--data-dir", str(data_dir), "--listen-client-urls", client,
                                  "--advertise-client-urls", client, "--listen-peer-urls", peer,
                                  "--initial-advertise-peer-urls", peer, "--initial-cluster", f"m1={peer}"],
                                 stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: '"health":"true"' in requests.get(f"{client}/health", timeout=2).text, 60, "restored member")
        keys = subprocess.run(["etcdctl", f"--endpoints={client}", "get", f"/registry/namespaces/{namespace}",
                               "--keys-only"], capture_output=True, text=True, check=True,
                              env={"ETCDCTL_API": "3", "PATH": os.environ["PATH"]}).stdout.split()
        assert keys == [f"/registry/namespaces/{namespace}"]
    finally:
        fresh.terminate()
        fresh.wait(timeout=30)


@pytest.mark.parametrize("playbook", ["backup.yml", "restore_etcd.yml"])
def test_backup_playbooks_pass_a_syntax_check(playbook):
    checked = _ansible("ansible-playbook", "--syntax-check", "-i", "localhost,",
                       str(REPO / "playbooks" / "backup" / playbook))
    assert checked.returncode == 0, checked.stdout + checked.stderr
