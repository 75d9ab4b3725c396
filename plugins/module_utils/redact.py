# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that knows which part of a location is a secret, and hides it.

A registry location is a filesystem path (SQLite) or a ``postgresql://`` / ``postgres://``
DSN, nothing else. A DSN may carry a password in its user info
(``postgresql://user:secret@host/db``) or in its query (``?password=secret``); those are the
secrets. Everything that prints a location (module messages, warnings, returns, the
inventory plugin's errors and host variables) prints ``redacted(location)``; modules also
register ``secrets(location)`` as no_log values, so Ansible masks them wherever they would
otherwise appear (``-vvv`` shows a module's arguments).

``check_location`` refuses any other scheme (``mysql://``, ``sqlite://``, ``http://``) and a
libpq keyword string (``host=... password=...``) without repeating the value: it may hold a
password.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

DSN_SCHEMES = ("postgresql", "postgres")
MASK = "***"
# A URL scheme (RFC 3986) followed by "://", or a scheme-only URI such as "mysql:" + "//host".
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(//|$)")
# libpq's keyword/value form ("host=db user=gpve password=..."): never a registry path.
_LIBPQ_KEYWORDS = re.compile(r"(^|\s)(host|hostaddr|port|dbname|user|password|passfile|sslmode|service)\s*=", re.IGNORECASE)
_LIBPQ_PASSWORD = re.compile(r"(?:^|\s)(?:ssl)?password\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))", re.IGNORECASE)
_SECRET_QUERY_KEYS = ("password", "sslpassword")
MAX_LOCATION = 4096
# user:password@ in any URL (scheme://user:password@host): the password group.
# Bounded quantifiers and a look-behind at the scheme's start keep it linear on hostile text (no backtracking
# through a megabyte of letters).
_URL_PASSWORD = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}://[^/?#\s:@]{0,256}:([^/?#\s@]{1,1024})@")


def is_dsn(location):
    return isinstance(location, str) and location.lower().startswith(tuple(s + "://" for s in DSN_SCHEMES))


def check_location(location, field="registry"):
    """location unchanged when it is a registry path or a postgresql:// DSN; else ValidationError(field).

    The message never repeats the value (it may hold a password); it names the scheme at most.
    """
    if location is None:
        return None
    if not isinstance(location, str) or not location.strip():
        raise ValidationError(field, "must be a non-empty path to a SQLite file or a postgresql:// DSN")
    if len(location) > MAX_LOCATION or "\x00" in location or any(ord(c) < 32 for c in location):
        raise ValidationError(field, f"must be a path or a postgresql:// DSN of at most {MAX_LOCATION} printable characters")
    if is_dsn(location):
        parts = urlsplit(location)
        try:
            if parts.port == 0:
                raise ValueError("port 0")
        except ValueError:  # urlsplit's port raises on a malformed or out-of-range port
            raise ValidationError(field, "the postgresql:// DSN has a malformed port") from None
        return location
    scheme = _SCHEME.match(location)
    if scheme:
        raise ValidationError(field, f"the scheme {scheme.group(1).lower()}: is not supported; a registry is a path to a "
                                     "SQLite file or a postgresql:// DSN")
    if _LIBPQ_KEYWORDS.search(location):
        raise ValidationError(field, "looks like a libpq key=value connection string; write it as a postgresql:// DSN "
                                     "(postgresql://user@host/dbname) and give the password through PGPASSWORD or ~/.pgpass")
    return location


def secrets(location):
    """The secret parts of a location (DSN passwords, raw and decoded): what no_log must hide.

    A refused libpq key=value string's password counts too: the refusal must not echo it.
    """
    if not isinstance(location, str):
        return set()
    if not is_dsn(location):
        return {quoted or bare for quoted, bare in _LIBPQ_PASSWORD.findall(location) if quoted or bare}
    parts = urlsplit(location)
    found = set()
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    if ":" in userinfo:
        raw = userinfo.split(":", 1)[1]
        found.update({raw, unquote(raw)})
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in _SECRET_QUERY_KEYS:
            found.add(value)
    for raw in re.findall(r"(?:^|&)(?:" + "|".join(_SECRET_QUERY_KEYS) + r")=([^&]*)", parts.query, re.IGNORECASE):
        found.update({raw, unquote(raw)})
    return {secret for secret in found if secret}


def url_passwords(value):
    """Every password found in URL user info (scheme://user:password@) anywhere in value (str, dict, list)."""
    found, stack = set(), [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "@" in item:
                for password in _URL_PASSWORD.findall(item):
                    found.update({password, unquote(password)})
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return {secret for secret in found if secret}


def redacted(location):
    """location with every secret part replaced by ***; a path is returned as it is."""
    return _rewritten(location, MASK)


def without_password(location):
    """A DSN with no password at all (libpq then reads PGPASSWORD or ~/.pgpass); a path as it is.

    For values handed on to other tasks (the inventory's gpve_kubeconfig arguments).
    """
    return _rewritten(location, None)


def _rewritten(location, mask):
    """A DSN whose passwords are replaced by mask, or dropped when mask is None."""
    if not is_dsn(location):
        return location
    parts = urlsplit(location)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _at, hostport = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        netloc = (user + (":" + mask if colon and mask is not None else "")) + "@" + hostport
    pairs = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() not in _SECRET_QUERY_KEYS:
            pairs.append((key, value))
        elif mask is not None:
            pairs.append((key, mask))
    query = urlencode(pairs, safe="*", quote_via=quote)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def scrub(text, hidden):
    """text with every string of hidden replaced by ***."""
    if not isinstance(text, str):
        return text
    for secret in sorted(hidden, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text
