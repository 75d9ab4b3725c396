"""The testbed's certificate authority: one CA for every TLS endpoint and client certificate.

The API server trusts it for client certificates, the controller manager signs CSRs with
it, and fakepve serves a certificate it issued, so every client verifies through one CA
file. EC P-256 keys throughout: quick to generate, accepted by Kubernetes 1.20 for
serving, client and service-account keys.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=365)
CA_NAME = "gpve-testbed-ca"


def write_private(path: Path, data: bytes) -> None:
    """Write a secret file readable by its owner only, whatever the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str, organizations: Iterable[str] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _key_usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=not ca,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def _alt_names(hosts: Iterable[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


@dataclass(frozen=True)
class IssuedPair:
    """Paths of a certificate and its private key."""

    cert: Path
    key: Path


class CertificateAuthority:
    """A CA whose certificate and key live in directory as ca.crt and ca.key."""

    def __init__(self, directory: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey):
        self.directory = directory
        self.certificate = cert
        self._key = key

    @property
    def cert_path(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def key_path(self) -> Path:
        return self.directory / "ca.key"

    @classmethod
    def create(cls, directory: Path) -> "CertificateAuthority":
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        subject = _name(CA_NAME)
        cert = (x509.CertificateBuilder()
                .subject_name(subject).issuer_name(subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + VALIDITY)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(_key_usage(ca=True), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "ca.crt").write_bytes(_cert_pem(cert))
        write_private(directory / "ca.key", _key_pem(key))
        return cls(directory, cert, key)

    @classmethod
    def load(cls, directory: Path) -> "CertificateAuthority":
        cert = x509.load_pem_x509_certificate((directory / "ca.crt").read_bytes())
        key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), password=None)
        return cls(directory, cert, key)

    def issue(self, name: str, common_name: str, organizations: Iterable[str] = (), hosts: Iterable[str] = (),
              server: bool = False, client: bool = False) -> IssuedPair:
        """Issue <name>.crt / <name>.key in the CA's directory: a server and/or client certificate."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + \
                 ([ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
        builder = (x509.CertificateBuilder()
                   .subject_name(_name(common_name, organizations))
                   .issuer_name(self.certificate.subject)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + VALIDITY)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(_key_usage(ca=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                                  critical=False))
        alt_names = _alt_names(hosts)
        if alt_names:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        pair = IssuedPair(self.directory / f"{name}.crt", self.directory / f"{name}.key")
        pair.cert.write_bytes(_cert_pem(cert))
        write_private(pair.key, _key_pem(key))
        return pair

    def issued(self, pem: bytes) -> bool:
        """True if the PEM certificate was signed by this CA."""
        cert = x509.load_pem_x509_certificate(pem)
        try:
            cert.verify_directly_issued_by(self.certificate)
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True


def write_service_account_keys(directory: Path) -> IssuedPair:
    """The key pair the API server signs service-account tokens with (sa.key) and verifies them by (sa.pub)."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    pair = IssuedPair(directory / "sa.pub", directory / "sa.key")
    pair.cert.write_bytes(public)
    write_private(pair.key, _key_pem(key))
    return pair
