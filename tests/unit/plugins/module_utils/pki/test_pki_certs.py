"""Certificates as kubeadm issues them: CA flags, usages, SANs, signatures checked with cryptography."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs, keys
from ansible_collections.gpve.cluster.plugins.module_utils.pki.errors import PkiError

pytestmark = pytest.mark.vcluster

NOW = datetime.datetime(2026, 1, 15, 12, 0, tzinfo=datetime.timezone.utc)
YEAR = datetime.timedelta(days=365)
SERVING = certs.CertSpec("kube-apiserver", (), ("kubernetes", "demo.vc-demo.svc"), ("10.96.0.1",),
                         frozenset({certs.SERVER}))
CLIENT = certs.CertSpec("kubernetes-admin", ("system:masters",), usages=frozenset({certs.CLIENT}))


def _extension(cert, kind):
    return cert.extensions.get_extension_for_class(kind)


def verify_signature(cert, issuer_cert):
    """Check the signature with the issuer's public key directly, independent of the code under test."""
    public_key = issuer_cert.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    else:
        from cryptography.hazmat.primitives.asymmetric import padding
        public_key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)


@pytest.fixture(scope="module")
def ca():
    return certs.new_ca("kubernetes", NOW, 10 * YEAR)


def test_ca_is_a_self_signed_ca_that_may_only_sign_certificates(ca):
    constraints = _extension(ca.cert, x509.BasicConstraints)
    usage = _extension(ca.cert, x509.KeyUsage).value
    assert constraints.critical and constraints.value.ca
    assert usage.key_cert_sign and usage.digital_signature and not usage.key_encipherment
    assert ca.cert.issuer == ca.cert.subject
    verify_signature(ca.cert, ca.cert)
    assert isinstance(ca.key, ec.EllipticCurvePrivateKey) and ca.key.curve.name == "secp256r1"


def test_serving_leaf_says_server_auth_only_and_carries_its_sans(ca):
    leaf = certs.issue(SERVING, ca, NOW, YEAR)
    assert list(_extension(leaf.cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert certs.subject_alt_names(leaf.cert) == (("kubernetes", "demo.vc-demo.svc"), ("10.96.0.1",))
    assert not _extension(leaf.cert, x509.BasicConstraints).value.ca
    assert certs.matches(leaf.cert, SERVING)


def test_client_leaf_says_client_auth_only_with_its_group_as_organisation(ca):
    leaf = certs.issue(CLIENT, ca, NOW, YEAR)
    assert list(_extension(leaf.cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert certs.describe(leaf.cert) == CLIENT
    assert certs.subject_alt_names(leaf.cert) == ((), ())


def test_leaf_is_signed_by_its_ca_and_names_it(ca):
    leaf = certs.issue(SERVING, ca, NOW, YEAR)
    verify_signature(leaf.cert, ca.cert)
    assert leaf.cert.issuer == ca.cert.subject
    ca_key_id = _extension(ca.cert, x509.SubjectKeyIdentifier).value.digest
    assert _extension(leaf.cert, x509.AuthorityKeyIdentifier).value.key_identifier == ca_key_id
    assert certs.is_signed_by(leaf.cert, ca.cert)


def test_a_ca_with_the_same_name_but_another_key_is_not_the_issuer(ca):
    impostor = certs.new_ca("kubernetes", NOW, 10 * YEAR)
    leaf = certs.issue(SERVING, impostor, NOW, YEAR)
    assert leaf.cert.issuer == ca.cert.subject
    with pytest.raises(InvalidSignature):
        verify_signature(leaf.cert, ca.cert)
    assert not certs.is_signed_by(leaf.cert, ca.cert)


def test_leaf_validity_is_backdated_for_skew_and_capped_at_the_ca_expiry():
    short_ca = certs.new_ca("short", NOW, datetime.timedelta(days=100))
    leaf = certs.issue(CLIENT, short_ca, NOW, YEAR)
    assert leaf.cert.not_valid_before_utc == NOW - certs.CLOCK_SKEW
    assert leaf.cert.not_valid_after_utc == short_ca.cert.not_valid_after_utc
    assert certs.remaining(leaf.cert, NOW) == datetime.timedelta(days=100)


def test_rsa_2048_on_request_with_key_encipherment_on_leaves():
    rsa_ca = certs.new_ca("kubernetes", NOW, 10 * YEAR, keys.RSA_2048)
    leaf = certs.issue(SERVING, rsa_ca, NOW, YEAR, keys.RSA_2048)
    assert isinstance(leaf.key, rsa.RSAPrivateKey) and leaf.key.key_size == 2048
    assert _extension(leaf.cert, x509.KeyUsage).value.key_encipherment
    verify_signature(leaf.cert, rsa_ca.cert)
    assert "RSA PRIVATE KEY" in keys.private_key_pem(leaf.key)


def test_unknown_algorithm_and_usage_are_refused(ca):
    with pytest.raises(PkiError, match="not supported"):
        keys.generate_private_key("dsa-1024")
    with pytest.raises(PkiError, match="extended usages"):
        certs.issue(certs.CertSpec("nobody"), ca, NOW, YEAR)


def test_pem_round_trip_and_key_must_belong_to_certificate(ca):
    leaf = certs.issue(CLIENT, ca, NOW, YEAR)
    cert_text, key_text = certs.cert_pem(leaf.cert), keys.private_key_pem(leaf.key)
    assert key_text.startswith("-----BEGIN EC PRIVATE KEY-----")
    loaded = certs.load_issued(cert_text, key_text.encode(), "admin")
    assert loaded.cert == leaf.cert
    with pytest.raises(PkiError, match="admin.key does not belong to admin.crt"):
        certs.load_issued(cert_text, keys.private_key_pem(ca.key), "admin")
    with pytest.raises(PkiError, match="^broken.crt: not a readable PEM certificate$"):
        certs.load_cert("garbage", "broken.crt")


def test_printing_an_issued_pair_never_shows_the_key(ca):
    key_text = keys.private_key_pem(ca.key)
    body = key_text.splitlines()[1]
    assert body not in repr(ca) and body not in str(ca)
    assert "CN=kubernetes" in repr(ca)
