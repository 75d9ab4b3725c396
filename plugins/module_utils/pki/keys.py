# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private and public keys for the cluster PKI, and their PEM forms.

ECDSA P-256 is the default. kubeadm defaults to RSA 2048 and offers ECDSA P-256 as an
option; every component involved (kube-apiserver, controller-manager, scheduler, etcd,
the kubelet, client-go, vcluster's cert loader) accepts both for serving, client and
service-account keys. P-256 wins on cost: one bundle holds 14 keys, and RSA 2048 spends
about 40 ms of CPU on each (over half a second per virtual cluster, far more with many
forks on few cores) where P-256 spends microseconds. RSA 2048 stays available for tools
that insist on it.

Private keys are written the way kubeadm writes them (SEC1 ``EC PRIVATE KEY`` or PKCS#1
``RSA PRIVATE KEY``); public keys as ``PUBLIC KEY`` (SubjectPublicKeyInfo), as sa.pub.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.pki.errors import MissingCryptographyError, PkiError

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - the module reports missing_required_lib
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = exc

ECDSA_P256 = "ecdsa-p256"
RSA_2048 = "rsa-2048"
ALGORITHMS = (ECDSA_P256, RSA_2048)
DEFAULT_ALGORITHM = ECDSA_P256
RSA_PUBLIC_EXPONENT = 65537


def require_cryptography():
    """Raise MissingCryptographyError when the library could not be imported."""
    if not HAS_CRYPTOGRAPHY:
        raise MissingCryptographyError(f"the Python library cryptography is required: {CRYPTOGRAPHY_IMPORT_ERROR}")


def generate_private_key(algorithm=DEFAULT_ALGORITHM):
    """A fresh private key of algorithm (one of ALGORITHMS)."""
    require_cryptography()
    if algorithm == ECDSA_P256:
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == RSA_2048:
        return rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=2048)
    raise PkiError(f"key algorithm {algorithm!r} is not supported; use one of {', '.join(ALGORITHMS)}")


def algorithm_of(key):
    """The ALGORITHMS name of a private or public key, or None for anything else."""
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)) and key.curve.name == "secp256r1":
        return ECDSA_P256
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)) and key.key_size == 2048:
        return RSA_2048
    return None


def private_key_pem(key):
    """The private key as PEM text, unencrypted (the Secret that holds it is the protection)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode("ascii")


def public_key_pem(key):
    """The public half of a private (or public) key as ``PUBLIC KEY`` PEM text."""
    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def load_private_key(pem, entry):
    """Parse PEM (text or bytes) into a private key; entry names it in errors, never the content."""
    require_cryptography()
    try:
        key = serialization.load_pem_private_key(_as_bytes(pem), password=None)
    except (ValueError, TypeError):
        raise PkiError(f"{entry}: not a readable unencrypted PEM private key") from None
    if algorithm_of(key) is None:
        raise PkiError(f"{entry}: only ECDSA P-256 and RSA 2048 keys are used here")
    return key


def same_public_key(first, second):
    """True when two keys (private or public) share the same public half."""
    return public_key_pem(first) == public_key_pem(second)


def _as_bytes(pem):
    return pem.encode("ascii") if isinstance(pem, str) else bytes(pem)
