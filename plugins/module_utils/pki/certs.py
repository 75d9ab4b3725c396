# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issuing X.509 certificates the way kubeadm does, and reading them back.

A CA is self-signed with basicConstraints CA:TRUE and keyCertSign; a leaf carries
digitalSignature (plus keyEncipherment for RSA keys), the extended usages its role
needs (serverAuth, clientAuth or both), its SANs, and the authority key id of its CA.
Leaves never outlive their CA. Times come from the caller (``now``) so renewal can be
decided and tested without a clock.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass, field

from ansible_collections.gpve.cluster.plugins.module_utils.pki import keys
from ansible_collections.gpve.cluster.plugins.module_utils.pki.errors import PkiError

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:  # pragma: no cover - keys.require_cryptography() reports it
    pass

# kubeadm backdates certificates a little so a peer whose clock lags still accepts them.
CLOCK_SKEW = datetime.timedelta(minutes=5)
SERVER = "server"
CLIENT = "client"


@dataclass(frozen=True)
class CertSpec:
    """What a certificate must say: subject, SANs and extended usages (SERVER, CLIENT)."""

    common_name: str
    organizations: tuple = ()
    dns_names: tuple = ()
    ip_addresses: tuple = ()
    usages: frozenset = field(default_factory=frozenset)


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key. Printing it shows the subject, never the key."""

    cert: object
    key: object = field(repr=False)

    def __repr__(self):
        return f"Issued({self.cert.subject.rfc4514_string()}, expires {not_after(self.cert).isoformat()})"


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def new_ca(common_name, now, validity, algorithm=keys.DEFAULT_ALGORITHM):
    """A self-signed CA valid from now (minus skew) for validity."""
    key = keys.generate_private_key(algorithm)
    name = _name(common_name, ())
    builder = (_base_builder(name, name, key.public_key(), now - CLOCK_SKEW, now + validity)
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(_key_usage(ca=True, rsa_key=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    return Issued(builder.sign(key, hashes.SHA256()), key)


def issue(spec, ca, now, validity, algorithm=keys.DEFAULT_ALGORITHM):
    """A leaf for spec signed by ca (an Issued CA), with a fresh key; capped at the CA's expiry."""
    key = keys.generate_private_key(algorithm)
    expires = min(now + validity, not_after(ca.cert))
    builder = (_base_builder(_name(spec.common_name, spec.organizations), ca.cert.subject, key.public_key(),
                             now - CLOCK_SKEW, expires)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(_key_usage(ca=False, rsa_key=isinstance(key, rsa.RSAPrivateKey)), critical=True)
               .add_extension(x509.ExtendedKeyUsage(_usage_oids(spec.usages)), critical=False)
               .add_extension(_authority_key_id(ca.cert), critical=False))
    alt_names = _general_names(spec.dns_names, spec.ip_addresses)
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def load_cert(pem, entry):
    """Parse one PEM certificate (text or bytes); entry names it in errors."""
    keys.require_cryptography()
    data = pem.encode("ascii") if isinstance(pem, str) else bytes(pem)
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise PkiError(f"{entry}: not a readable PEM certificate") from None


def load_issued(cert_pem_text, key_pem_text, entry):
    """An Issued from its two PEM halves, checking that the key belongs to the certificate."""
    cert = load_cert(cert_pem_text, f"{entry}.crt")
    key = keys.load_private_key(key_pem_text, f"{entry}.key")
    if not keys.same_public_key(cert.public_key(), key):
        raise PkiError(f"{entry}.key does not belong to {entry}.crt")
    return Issued(cert, key)


def is_ca(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def is_signed_by(cert, ca_cert):
    """True when ca_cert's key signed cert and the names chain (issuer == CA subject)."""
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def not_after(cert):
    return cert.not_valid_after_utc


def remaining(cert, now):
    """Time left before cert expires (negative once expired)."""
    return not_after(cert) - now


def describe(cert):
    """The CertSpec a certificate satisfies: subject, SANs and usages read back from it."""
    dns_names, ip_addresses = subject_alt_names(cert)
    return CertSpec(
        common_name=_attribute(cert, NameOID.COMMON_NAME)[0] if _attribute(cert, NameOID.COMMON_NAME) else "",
        organizations=tuple(_attribute(cert, NameOID.ORGANIZATION_NAME)),
        dns_names=dns_names, ip_addresses=ip_addresses, usages=extended_usages(cert))


def matches(cert, spec):
    """True when cert says exactly what spec asks (order of SANs and organisations aside)."""
    found = describe(cert)
    return (found.common_name == spec.common_name
            and sorted(found.organizations) == sorted(spec.organizations)
            and sorted(found.dns_names) == sorted(spec.dns_names)
            and sorted(found.ip_addresses) == sorted(_canonical_ips(spec.ip_addresses))
            and found.usages == frozenset(spec.usages))


def subject_alt_names(cert):
    """(dns_names, ip_addresses) of cert as tuples of strings; empty when it has none."""
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return (), ()
    return (tuple(sans.get_values_for_type(x509.DNSName)),
            tuple(str(ip) for ip in sans.get_values_for_type(x509.IPAddress)))


def extended_usages(cert):
    """frozenset of SERVER / CLIENT found in the extended key usage extension."""
    try:
        oids = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return frozenset()
    names = {ExtendedKeyUsageOID.SERVER_AUTH: SERVER, ExtendedKeyUsageOID.CLIENT_AUTH: CLIENT}
    return frozenset(names[oid] for oid in oids if oid in names)


def _base_builder(subject, issuer, public_key, valid_from, valid_until):
    return (x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(valid_from)
            .not_valid_after(valid_until))


def _name(common_name, organizations):
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _attribute(cert, oid):
    return [attribute.value for attribute in cert.subject.get_attributes_for_oid(oid)]


def _key_usage(ca, rsa_key):
    # keyEncipherment only means something for RSA key transport; kubeadm sets it on RSA leaves.
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=rsa_key and not ca,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=False,
                         encipher_only=False, decipher_only=False)


def _usage_oids(usages):
    unknown = set(usages) - {SERVER, CLIENT}
    if unknown or not usages:
        raise PkiError(f"a leaf needs extended usages among {SERVER!r} and {CLIENT!r}, got {sorted(usages)}")
    oids = []
    if SERVER in usages:
        oids.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if CLIENT in usages:
        oids.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    return oids


def _authority_key_id(ca_cert):
    try:
        ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _general_names(dns_names, ip_addresses):
    names = [x509.DNSName(name) for name in dns_names]
    names.extend(x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses)
    return names


def _canonical_ips(ip_addresses):
    return [str(ipaddress.ip_address(ip)) for ip in ip_addresses]
