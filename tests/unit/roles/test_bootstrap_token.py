"""kubeadm join material (playbook_support.bootstrap_token): token form, TTLs, the Secret, and the
CA pin checked against openssl's own computation of the same hash."""

from __future__ import annotations

import datetime
import hashlib
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support import bootstrap_token
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support.errors import TokenError

pytestmark = pytest.mark.roles


def self_signed_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_tokens_have_kubeadms_form_and_differ():
    made = set()
    for _attempt in range(50):
        token_id, secret = bootstrap_token.new_token()
        assert bootstrap_token.TOKEN_FORMAT.match(f"{token_id}.{secret}")
        made.add(secret)
    assert len(made) == 50


@pytest.mark.parametrize("ttl, seconds", [("1h", 3600), ("90m", 5400), ("1h30m", 5400), ("600s", 600), (120, 120)])
def test_ttl(ttl, seconds):
    assert bootstrap_token.ttl_seconds(ttl) == seconds


@pytest.mark.parametrize("ttl", ["", "1d", "10", "30s", 5])
def test_bad_ttls(ttl):
    with pytest.raises(TokenError):
        bootstrap_token.ttl_seconds(ttl)


def test_secret_is_what_kubeadm_token_create_makes():
    expires = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    body = bootstrap_token.secret_body("abcdef", "0123456789abcdef", expires, "join")
    assert body["type"] == "bootstrap.kubernetes.io/token"
    assert body["metadata"]["name"] == "bootstrap-token-abcdef" and body["metadata"]["namespace"] == "kube-system"
    data = body["stringData"]
    assert data["expiration"] == "2030-01-02T03:04:05Z"
    assert data["usage-bootstrap-authentication"] == data["usage-bootstrap-signing"] == "true"
    assert data["auth-extra-groups"] == "system:bootstrappers:kubeadm:default-node-token"


def test_ca_hash_matches_openssl(tmp_path):
    pem = self_signed_ca()
    path = tmp_path / "ca.crt"
    path.write_text(pem)
    pubkey = subprocess.run(["openssl", "x509", "-pubkey", "-noout", "-in", str(path)], check=True,
                            stdout=subprocess.PIPE).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pubkey, check=True,
                         stdout=subprocess.PIPE).stdout
    assert bootstrap_token.ca_cert_hash(pem) == "sha256:" + hashlib.sha256(der).hexdigest()


def test_a_kubeconfig_without_a_ca_is_refused(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text("apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: k, cluster: {server: 'https://x:6443'}}]\n"
                    "contexts: [{name: c, context: {cluster: k, user: u}}]\nusers: [{name: u, user: {token: t}}]\n")
    with pytest.raises(TokenError, match="names no cluster CA"):
        bootstrap_token.kubeconfig_ca(str(path))
