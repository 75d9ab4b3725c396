"""The credential envelope and keyring on their own."""

from __future__ import annotations

import base64
import os
import stat
import threading

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils import crypto

pytestmark = pytest.mark.registry

KEY = os.urandom(32)
OTHER = os.urandom(32)


def test_envelope_layout_and_fresh_nonces():
    ring = crypto.Keyring(KEY)
    first = ring.encrypt(b"kubeconfig", "cluster-1", "kubeconfig")
    second = ring.encrypt(b"kubeconfig", "cluster-1", "kubeconfig")
    assert first[0] == crypto.ENVELOPE_VERSION
    assert first[1:9].hex() == crypto.key_id_of(KEY) == crypto.envelope_key_id(first)
    assert len(first) == crypto.HEADER_BYTES + len(b"kubeconfig") + crypto.TAG_BYTES
    assert first[9:21] != second[9:21] and first != second
    assert ring.decrypt(first, "cluster-1", "kubeconfig") == b"kubeconfig"


@pytest.mark.parametrize("cluster_id, credential_type", [("cluster-2", "kubeconfig"), ("cluster-1", "token")])
def test_aad_binds_cluster_and_type(cluster_id, credential_type):
    ring = crypto.Keyring(KEY)
    blob = ring.encrypt(b"secret", "cluster-1", "kubeconfig")
    with pytest.raises(crypto.DecryptionFailed) as caught:
        ring.decrypt(blob, cluster_id, credential_type)
    assert crypto.key_id_of(KEY) in str(caught.value)


def test_header_tampering_is_detected():
    ring = crypto.Keyring(KEY)
    blob = bytearray(ring.encrypt(b"secret", "c", "t"))
    blob[12] ^= 0xFF  # inside the nonce
    with pytest.raises(crypto.DecryptionFailed):
        ring.decrypt(bytes(blob), "c", "t")
    with pytest.raises(crypto.EnvelopeError):
        ring.decrypt(b"\x02" + bytes(blob[1:]), "c", "t")
    with pytest.raises(crypto.EnvelopeError):
        ring.decrypt(b"\x01short", "c", "t")


def test_retired_keys_decrypt_but_never_encrypt():
    old = crypto.Keyring(OTHER).encrypt(b"old", "c", "t")
    ring = crypto.Keyring(KEY, [OTHER])
    assert ring.decrypt(old, "c", "t") == b"old"
    assert ring.needs_rewrap(old) and not ring.needs_rewrap(ring.encrypt(b"new", "c", "t"))
    assert crypto.envelope_key_id(ring.encrypt(b"new", "c", "t")) == crypto.key_id_of(KEY)


def test_a_keyring_without_primary_refuses_to_encrypt():
    with pytest.raises(crypto.EncryptionKeyRequired):
        crypto.Keyring(None, [OTHER]).encrypt(b"x", "c", "t")


@pytest.mark.parametrize("text, reason", [("not base64!", "not valid base64"),
                                          (base64.b64encode(b"short").decode(), "decodes to 5 bytes")])
def test_bad_keys_name_the_setting_not_the_value(text, reason):
    with pytest.raises(crypto.InvalidKey) as caught:
        crypto.keys_from_environment({crypto.KEY_ENV: text})
    assert caught.value.field == crypto.KEY_ENV and reason in str(caught.value) and text not in str(caught.value)


def test_keys_from_environment_reads_primary_and_retired():
    environ = {crypto.KEY_ENV: base64.b64encode(KEY).decode(),
               crypto.RETIRED_KEYS_ENV: f"{base64.b64encode(OTHER).decode()}, {base64.b64encode(KEY).decode()}"}
    primary, retired = crypto.keys_from_environment(environ)
    assert primary == KEY and retired == [OTHER, KEY]
    assert crypto.keys_from_environment({}, key=base64.b64encode(OTHER).decode())[0] == OTHER


def test_concurrent_key_file_creation_yields_one_key(tmp_path):
    path = str(tmp_path / "registry.key")
    results = []
    threads = [threading.Thread(target=lambda: results.append(crypto.create_key_file(path))) for _thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({key for key, _created in results}) == 1
    assert sum(created for _key, created in results) == 1
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["registry.key"]  # no temp files left behind
