"""Credentials at rest: ciphertext only, bound to their row, rotatable, and loud about keys."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from registry_helpers import k8s_spec, new_key

from ansible_collections.gpve.cluster.plugins.module_utils import crypto, registry
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import NotFound

pytestmark = pytest.mark.registry


def key_id(key_b64):
    return crypto.key_id_of(crypto.parse_key(key_b64, "test"))


def raw_execute(backend, location, sql, params=()):
    """Write straight to the database, behind the store's back (to play an attacker)."""
    if backend == "sqlite":
        conn = sqlite3.connect(location)
        with conn:
            conn.execute(sql, params)
        conn.close()
    else:
        with psycopg.connect(location, autocommit=True) as conn:
            conn.execute(sql.replace("?", "%s"), params)


def database_bytes(backend, location):
    """Everything the database holds, as bytes: the SQLite file and its WAL, or a pg_dump."""
    if backend == "sqlite":
        return b"".join(Path(path).read_bytes() for path in (location, location + "-wal") if os.path.exists(path))
    pg_dump = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))[-1]
    return subprocess.run([str(pg_dump), "--data-only", location], check=True, capture_output=True).stdout


@pytest.fixture
def two_clusters(store):
    return [store.create_cluster(name, "k8s-vm", spec=k8s_spec()) for name in ("enc-a", "enc-b")]


def test_only_ciphertext_reaches_the_database(backend, store, location, two_clusters):
    secret = f"client-key-data: {uuid.uuid4().hex}".encode()
    control = f"plain-annotation-{uuid.uuid4().hex}"
    cluster = two_clusters[0]
    store.update_cluster(cluster.id, 1, annotations={"control": control})  # stored in clear: proves the scan sees data
    store.put_credential(cluster.id, "kubeconfig", secret * 4)
    assert store.get_credential(cluster.id, "kubeconfig").data == secret * 4
    content = database_bytes(backend, location)
    assert control.encode() in content
    assert secret not in content
    assert secret.split(b": ")[1] not in content


def test_a_blob_copied_to_another_row_does_not_decrypt(backend, store, location, two_clusters, encryption_key):
    first, second = two_clusters
    store.put_credential(first.id, "kubeconfig", "kubeconfig of a")
    store.put_credential(second.id, "kubeconfig", "kubeconfig of b")
    store.put_credential(first.id, "token", "token of a")
    for target_cluster, target_type in ((second.id, "kubeconfig"), (first.id, "token")):
        raw_execute(backend, location, "UPDATE cluster_credentials SET data_encrypted = "
                    "(SELECT data_encrypted FROM cluster_credentials WHERE cluster_id = ? AND type = 'kubeconfig') "
                    "WHERE cluster_id = ? AND type = ?", (first.id, target_cluster, target_type))
        with pytest.raises(crypto.DecryptionFailed) as caught:
            store.get_credential(target_cluster, target_type)
        assert key_id(encryption_key) in str(caught.value)
    assert store.get_credential(first.id, "kubeconfig").text == "kubeconfig of a"


def test_tampered_ciphertext_is_detected(backend, store, location, two_clusters):
    cluster = two_clusters[0]
    store.put_credential(cluster.id, "token", "abc")
    blob = bytearray(store._read(lambda tx: tx.one("SELECT data_encrypted FROM cluster_credentials"))["data_encrypted"])  # pylint: disable=protected-access
    blob[-1] ^= 1
    raw_execute(backend, location, "UPDATE cluster_credentials SET data_encrypted = ?", (bytes(blob),))
    with pytest.raises(crypto.DecryptionFailed):
        store.get_credential(cluster.id, "token")


def test_rotation_rewraps_every_credential_once(open_store, two_clusters, encryption_key):
    old_store = open_store()
    for cluster in two_clusters:
        for credential_type in ("kubeconfig", "token", "ca-cert"):
            old_store.put_credential(cluster.id, credential_type, f"{credential_type} of {cluster.name}")
    new = new_key()
    rotating = open_store(encryption_key=new, retired_keys=[encryption_key])
    report = rotating.rotate_credentials()
    assert (report.key_id, report.rewrapped, report.already_current) == (key_id(new), 6, 0)
    again = rotating.rotate_credentials()
    assert (again.rewrapped, again.already_current) == (0, 6)
    assert {c.key_id for c in rotating.list_credentials()} == {key_id(new)}
    new_only = open_store(encryption_key=new)
    assert new_only.get_credential(two_clusters[1].id, "ca-cert").text == "ca-cert of enc-b"
    assert [e.details for e in new_only.list_audit(entity="keyring")] == [{"rewrapped": 6}]


def test_rotation_that_cannot_decrypt_changes_nothing(open_store, two_clusters, encryption_key):
    open_store().put_credential(two_clusters[0].id, "token", "t")
    unrelated = open_store(encryption_key=new_key())
    with pytest.raises(crypto.KeyNotInKeyring) as caught:
        unrelated.rotate_credentials()
    assert key_id(encryption_key) in str(caught.value)
    assert {c.key_id for c in unrelated.list_credentials()} == {key_id(encryption_key)}


def test_wrong_key_names_the_key_id_and_never_returns_garbage(open_store, two_clusters, encryption_key):
    open_store().put_credential(two_clusters[0].id, "kubeconfig", "secret")
    wrong = open_store(encryption_key=new_key())
    with pytest.raises(crypto.KeyNotInKeyring) as caught:
        wrong.get_credential(two_clusters[0].id, "kubeconfig")
    assert caught.value.key_id == key_id(encryption_key)
    assert key_id(encryption_key) in str(caught.value)
    with pytest.raises(NotFound):
        wrong.get_credential(two_clusters[1].id, "kubeconfig")


def test_missing_key_on_postgresql_is_an_error_naming_what_to_set(pg_database, encryption_key):
    keyed = registry.open_registry(pg_database, encryption_key=encryption_key, environ={})
    keyless = registry.open_registry(pg_database, environ={})
    try:
        cluster = keyed.create_cluster("enc-pg", "k8s-vm", spec=k8s_spec())
        keyed.put_credential(cluster.id, "kubeconfig", "secret")
        assert [c.name for c in keyless.query_clusters()] == ["enc-pg"]  # reading clusters needs no key
        with pytest.raises(crypto.EncryptionKeyRequired) as refused:
            keyless.put_credential(cluster.id, "token", "x")
        assert crypto.KEY_ENV in str(refused.value)
        with pytest.raises(crypto.KeyNotInKeyring) as caught:
            keyless.get_credential(cluster.id, "kubeconfig")
        assert key_id(encryption_key) in str(caught.value)
    finally:
        keyed.close()
        keyless.close()


class TestSQLiteKeyFile:
    """SQLite without a configured key: one key generated once, 0600, next to the database."""

    @pytest.fixture
    def db_path(self, tmp_path):
        return str(tmp_path / "data" / "registry.db")

    def test_first_credential_write_generates_the_key_file_and_says_so(self, db_path):
        key_path = Path(db_path).with_suffix(".key")
        with registry.open_registry(db_path, environ={}) as store:
            cluster = store.create_cluster("kf", "k8s-vm", spec=k8s_spec())
            assert not key_path.exists() and store.notices == []  # nothing secret written yet: no key needed
            store.put_credential(cluster.id, "kubeconfig", "secret")
            assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
            assert len(store.notices) == 1 and str(key_path) in store.notices[0]
            generated = key_path.read_text().strip()
        with registry.open_registry(db_path, environ={}) as again:
            assert again.get_credential(cluster.id, "kubeconfig").text == "secret"
            again.put_credential(cluster.id, "token", "t")
            assert again.notices == [] and key_path.read_text().strip() == generated
        key_path.unlink()
        with registry.open_registry(db_path, environ={}) as keyless:
            with pytest.raises(crypto.KeyNotInKeyring) as caught:
                keyless.get_credential(cluster.id, "kubeconfig")
            assert key_id(generated) in str(caught.value)

    def test_database_and_key_file_are_private(self, db_path):
        with registry.open_registry(db_path, environ={}) as store:
            cluster = store.create_cluster("perm", "k8s-vm", spec=k8s_spec())
            store.put_credential(cluster.id, "token", "t")
            assert stat.S_IMODE(os.stat(Path(db_path).parent).st_mode) == 0o700
            for path in (db_path, db_path + "-wal", db_path + "-shm", str(Path(db_path).with_suffix(".key"))):
                assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path

    def test_a_configured_key_takes_over_and_the_file_key_still_decrypts(self, db_path):
        with registry.open_registry(db_path, environ={}) as store:
            cluster = store.create_cluster("take", "k8s-vm", spec=k8s_spec())
            store.put_credential(cluster.id, "kubeconfig", "under the file key")
        configured = new_key()
        with registry.open_registry(db_path, environ={crypto.KEY_ENV: configured}) as store:
            assert store.get_credential(cluster.id, "kubeconfig").text == "under the file key"
            assert store.rotate_credentials().rewrapped == 1
        with registry.open_registry(db_path, encryption_key=configured, environ={}) as store:
            Path(db_path).with_suffix(".key").unlink()
            assert store.get_credential(cluster.id, "kubeconfig").info.key_id == key_id(configured)

    def test_a_key_file_others_can_read_is_refused(self, db_path):
        with registry.open_registry(db_path, environ={}) as store:
            cluster = store.create_cluster("loose", "k8s-vm", spec=k8s_spec())
            store.put_credential(cluster.id, "kubeconfig", "secret")
        os.chmod(Path(db_path).with_suffix(".key"), 0o644)
        with registry.open_registry(db_path, environ={}) as store:
            with pytest.raises(crypto.KeyFileInsecure):
                store.get_credential(cluster.id, "kubeconfig")
