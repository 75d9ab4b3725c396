# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credential encryption at rest: an AES-256-GCM envelope and a keyring.

Envelope (bytes): ``version (1) | key id (8) | nonce (12) | ciphertext + GCM tag (16)``.
The additional authenticated data binds the envelope header, the cluster id and the
credential type, so a blob copied onto another cluster's row (or another credential type)
fails to decrypt instead of yielding someone else's secret.

A key id is derived from the key itself (a truncated SHA-256), so a keyring needs no
separate id bookkeeping: ``GPVE_SECURITY_ENCRYPTION_KEY`` (base64 of 32 bytes) is the
primary key that encrypts; ``GPVE_SECURITY_RETIRED_KEYS`` (base64 keys separated by commas
or whitespace) only decrypt, until a rotation rewraps everything under the primary key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
import traceback

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError, ValidationError

try:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:
    AESGCM = None
    InvalidTag = None
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    CRYPTOGRAPHY_IMPORT_ERROR = None

KEY_ENV = "GPVE_SECURITY_ENCRYPTION_KEY"
RETIRED_KEYS_ENV = "GPVE_SECURITY_RETIRED_KEYS"
ENVELOPE_VERSION = 1
KEY_BYTES = 32
KEY_ID_BYTES = 8
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES
_AAD_PREFIX = b"gpve.cluster/credential\x00"


class CryptoError(GpveError):
    """Base of credential encryption errors. Messages name key ids, never key material."""


class InvalidKey(ValidationError):
    """A configured key is not base64 of exactly 32 bytes."""

    def __init__(self, source, reason):
        super().__init__(source, f"must be the base64 encoding of exactly {KEY_BYTES} random bytes ({reason})")


class EncryptionKeyRequired(CryptoError):
    """Storing a credential needs a primary key and none is configured."""

    def __init__(self, why):
        super().__init__(f"no credential encryption key: {why}. Set {KEY_ENV} (base64 of {KEY_BYTES} random bytes, "
                         f"e.g. `openssl rand -base64 32`)")


class KeyNotInKeyring(CryptoError):
    """The credential was encrypted with a key the keyring does not hold."""

    def __init__(self, key_id, what, known):
        self.key_id = key_id
        super().__init__(f"{what} was encrypted with key id {key_id}, which is not in the keyring "
                         f"(known: {', '.join(known) or 'none'}); set {KEY_ENV} to that key or add it to {RETIRED_KEYS_ENV}")


class DecryptionFailed(CryptoError):
    """The key matched by id but authentication failed: altered data or a blob from another row."""

    def __init__(self, key_id, what):
        self.key_id = key_id
        super().__init__(f"{what} failed to decrypt with key id {key_id}: the data was altered or belongs to another "
                         "cluster or credential type")


class EnvelopeError(CryptoError):
    """The stored bytes are not an envelope this code understands."""


class KeyFileInsecure(CryptoError):
    """The key file is readable by other users; refuse to use a possibly leaked key."""


def _require_cryptography():
    if AESGCM is None:
        raise CryptoError(f"the Python package 'cryptography' is required for credential encryption: {CRYPTOGRAPHY_IMPORT_ERROR}")


def key_id_of(key: bytes) -> str:
    """The public id of a key: 16 hex digits of a domain-separated SHA-256."""
    return hashlib.sha256(b"gpve.cluster key id\x00" + key).digest()[:KEY_ID_BYTES].hex()


def parse_key(text, source) -> bytes:
    """Decode one base64 key; source names where it came from for the error message."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKey(source, "not valid base64") from None
    if len(key) != KEY_BYTES:
        raise InvalidKey(source, f"decodes to {len(key)} bytes")
    return key


def parse_key_list(text, source):
    """Decode a comma- or whitespace-separated list of base64 keys."""
    return [parse_key(item, source) for item in text.replace(",", " ").split()]


def generate_key() -> bytes:
    return os.urandom(KEY_BYTES)


def envelope_key_id(blob: bytes) -> str:
    """The id of the key that sealed blob (no key needed)."""
    _check_envelope(blob)
    return blob[1:1 + KEY_ID_BYTES].hex()


def _check_envelope(blob):
    if len(blob) < HEADER_BYTES + TAG_BYTES:
        raise EnvelopeError(f"stored credential is {len(blob)} bytes, too short to be an encrypted envelope")
    if blob[0] != ENVELOPE_VERSION:
        raise EnvelopeError(f"stored credential has envelope version {blob[0]}; this code reads version {ENVELOPE_VERSION}")


def _aad(header, cluster_id, credential_type):
    return b"\x00".join((_AAD_PREFIX, header, cluster_id.encode("utf-8"), credential_type.encode("utf-8")))


class Keyring:
    """The primary key (encrypts and decrypts) and retired keys (decrypt only), by key id."""

    def __init__(self, primary=None, retired=()):
        self.primary_key_id = key_id_of(primary) if primary else None
        self._keys = {}
        for key in [primary, *retired]:
            if key:
                self._keys.setdefault(key_id_of(key), key)
        self.missing_primary_reason = "no key configured"

    @property
    def key_ids(self):
        return list(self._keys)

    def encrypt(self, plaintext: bytes, cluster_id: str, credential_type: str) -> bytes:
        _require_cryptography()
        if self.primary_key_id is None:
            raise EncryptionKeyRequired(self.missing_primary_reason)
        header = bytes([ENVELOPE_VERSION]) + bytes.fromhex(self.primary_key_id) + os.urandom(NONCE_BYTES)
        sealed = AESGCM(self._keys[self.primary_key_id]).encrypt(header[-NONCE_BYTES:], plaintext,
                                                                 _aad(header, cluster_id, credential_type))
        return header + sealed

    def decrypt(self, blob: bytes, cluster_id: str, credential_type: str) -> bytes:
        _require_cryptography()
        blob = bytes(blob)
        key_id = envelope_key_id(blob)
        what = f"the {credential_type} credential of cluster {cluster_id}"
        key = self._keys.get(key_id)
        if key is None:
            raise KeyNotInKeyring(key_id, what, self.key_ids)
        header = blob[:HEADER_BYTES]
        try:
            return AESGCM(key).decrypt(header[-NONCE_BYTES:], blob[HEADER_BYTES:], _aad(header, cluster_id, credential_type))
        except InvalidTag:
            raise DecryptionFailed(key_id, what) from None

    def needs_rewrap(self, blob: bytes) -> bool:
        return envelope_key_id(bytes(blob)) != self.primary_key_id


def keys_from_environment(environ=None, key=None, retired_keys=None):
    """(primary, retired) keys from explicit values, else from the environment variables.

    A bad key is refused naming where it came from: the option (encryption_key, retired_keys) when given, else the
    environment variable. An explicit empty key is refused; an empty environment variable counts as unset.
    """
    environ = os.environ if environ is None else environ
    primary_text = key if key is not None else environ.get(KEY_ENV)
    retired_text = retired_keys if retired_keys is not None else environ.get(RETIRED_KEYS_ENV, "")
    if isinstance(retired_text, (list, tuple)):
        retired_text = " ".join(retired_text)
    primary = parse_key(primary_text, "encryption_key" if key is not None else KEY_ENV) if primary_text or key is not None else None
    return primary, parse_key_list(retired_text or "", "retired_keys" if retired_keys is not None else RETIRED_KEYS_ENV)


def read_key_file(path):
    """The key in path, or None when the file does not exist.

    Refuses, as ssh refuses a private key, a file that is not a regular file, is group/world-accessible,
    or is owned by another user (who could replace the key everything is encrypted with).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KeyFileInsecure(f"key file {path} cannot be opened ({exc.strerror}); it must be a regular file, not a "
                              "symbolic link") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):  # checked before fdopen, which raises on a directory
        os.close(fd)
        raise KeyFileInsecure(f"key file {path} is not a regular file")
    with os.fdopen(fd, "r") as handle:
        if info.st_uid != os.geteuid():
            raise KeyFileInsecure(f"key file {path} is owned by uid {info.st_uid}, not by this user (uid {os.geteuid()}); "
                                  "a key file must belong to the user who runs gpve.cluster")
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileInsecure(f"key file {path} is accessible by other users (mode {oct(info.st_mode & 0o777)}); "
                                  "chmod 600 it")
        return parse_key(handle.read(), str(path))


def create_key_file(path):
    """Write a new random key to path (0600) unless one appeared there first; return (key, created).

    The key is written to a private temp file and hard-linked into place, so a concurrent
    reader sees either no file or a complete one, and exactly one writer wins.
    """
    directory = os.path.dirname(os.path.abspath(path))
    temp_path = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(generate_key()).decode("ascii") + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp_path, path)
            created = True
        except FileExistsError:
            created = False
    finally:
        os.unlink(temp_path)
    return read_key_file(path), created
