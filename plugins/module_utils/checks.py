# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The input rules every module's validation pass shares; each raises ValidationError(field, message).

- one name rule for every cluster kind: a DNS-1123 label (what gpve_k8s_vm has always asked for);
- names used in file names are names, never paths (``file_name``), and a file written beside a
  destination stays in that destination's directory (``inside``);
- a destination is checked writable before the first write (``writable_destination``);
- numbers have ranges (``number``), URLs carry no credentials (``url``);
- Kubernetes names as Kubernetes defines them: namespaces, label keys and values, event reasons;
- documents are bounded in size after YAML expansion (``bounded``): an alias bomb arrives expanded,
  and is measured with a budget, so measuring it costs no more than the bound.

Messages quote a bad value only through ``shown()``: shortened and with control characters escaped.
"""

from __future__ import annotations

import math
import os
import re
from urllib.parse import urlsplit

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
# A name that is also a file name component: no separator, no leading dot, printable ASCII only.
REGISTRY_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@:+=-]*$")
# An event reason as Kubernetes asks for one: short, UpperCamelCase, machine-readable (StageStarted).
EVENT_REASON = re.compile(r"^[A-Z][A-Za-z0-9]{0,63}$")
MAX_LABEL = 63
MAX_FILE_NAME = 128
# The largest document (spec, values, addons, status) the collection accepts, measured expanded.
MAX_DOCUMENT_BYTES = 1024 * 1024


def fail(field, message):
    raise ValidationError(field, message)


def shown(value, limit=60):
    """A bad value for a message: repr, control characters escaped, shortened."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 5] + "...'" + f" ({len(str(value))} characters)"


def cluster_name(value, field="name"):
    """The one cluster name rule of every kind: a DNS-1123 label (becomes host names, namespaces, VM names)."""
    if not isinstance(value, str) or not value:
        fail(field, "the cluster needs a name: a DNS-1123 label such as \"prod-eu1\"")
    if len(value) > MAX_LABEL or not DNS1123_LABEL.match(value):
        fail(field, f"{shown(value)} is not a DNS-1123 label: use at most {MAX_LABEL} lower-case letters, digits and "
                    "\"-\", starting and ending with a letter or digit (for example \"prod-eu1\")")
    return value


def registry_id(value, field="id"):
    """A registry id (a UUID's hex digits)."""
    if not isinstance(value, str) or not REGISTRY_ID.match(value):
        fail(field, f"{shown(value)} is not a registry id (up to 64 letters, digits and \"-\")")
    return value


def namespace(value, field):
    """A Kubernetes namespace name: a DNS-1123 label."""
    if not isinstance(value, str) or len(value) > MAX_LABEL or not DNS1123_LABEL.match(value):
        fail(field, f"{shown(value)} is not a Kubernetes namespace name (a DNS-1123 label: at most {MAX_LABEL} lower-case "
                    "letters, digits and \"-\", starting and ending with a letter or digit)")
    return value


def label_key(value, field):
    """A Kubernetes label (or annotation) key: [DNS-1123 subdomain prefix /] name of at most 63 characters."""
    if not isinstance(value, str):
        fail(field, f"{shown(value)} is not a label key")
    prefix, _slash, name = value.rpartition("/")
    if (prefix and not DNS1123_SUBDOMAIN.match(prefix)) or not LABEL_NAME.match(name):
        fail(field, f"{shown(value)} is not a Kubernetes label key ([prefix/]name: the name at most 63 letters, digits, "
                    "\"-\", \"_\" and \".\", starting and ending with a letter or digit; the prefix a DNS subdomain)")
    return value


def label_value(value, field):
    if not isinstance(value, str) or not LABEL_VALUE.match(value):
        fail(field, f"{shown(value)} is not a Kubernetes label value (at most 63 letters, digits, \"-\", \"_\" and \".\", "
                    "starting and ending with a letter or digit, or empty)")
    return value


def labels(value, field):
    """A mapping of label keys to label values, as Kubernetes defines both."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        fail(field, "must be a mapping of label keys to values")
    for key, item in value.items():
        label_key(key, field)
        label_value(item, f"{field}.{key}")
    return value


def event_reason(value, field):
    """An event reason (or transition trigger): UpperCamelCase letters and digits, at most 64 (StageStarted)."""
    if not isinstance(value, str) or not EVENT_REASON.match(value):
        fail(field, f"{shown(value)} is not an event reason: at most 64 letters and digits in UpperCamelCase, such as "
                    "\"StageStarted\"")
    return value


def file_name(value, field):
    """A name that becomes (part of) a file name: never a path, never hidden, never empty."""
    if not isinstance(value, str) or not value:
        fail(field, "must be a non-empty name")
    if "/" in value or "\\" in value or value in (".", "..") or len(value) > MAX_FILE_NAME or not FILE_NAME.match(value):
        fail(field, f"{shown(value)} is a name, not a path: use at most {MAX_FILE_NAME} letters, digits and \"_.@:+=-\", "
                    "starting with a letter, digit or \"_\" (no \"/\", no leading dot)")
    return value


def number(value, field, minimum, maximum):
    """An int or float within [minimum, maximum] (bool is not a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        fail(field, f"must be a number from {minimum} to {maximum}, got {shown(value)}")
    if value < minimum or value > maximum:
        fail(field, f"must be from {minimum} to {maximum}, got {value}")
    return value


def whole(value, field, minimum, maximum):
    """An int within [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int):
        fail(field, f"must be a whole number from {minimum} to {maximum}, got {shown(value)}")
    return number(value, field, minimum, maximum)


def optional(check, value, *args):
    return None if value is None else check(value, *args)


def url(value, field, schemes=("https", "http")):
    """A URL of one of schemes with a host and no user info: credentials go in their own no_log options."""
    if not isinstance(value, str) or any(ord(c) < 33 for c in value):
        fail(field, f"{shown(value)} is not a URL")
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        fail(field, f"must be a {' or '.join(s + '://' for s in schemes)} URL with a host")
    if "@" in parts.netloc:
        fail(field, "must not carry credentials (user:password@): give them in the module's credential options, "
                    "which are never logged")
    try:
        if parts.port == 0:
            fail(field, "has port 0")
    except ValueError:  # urlsplit's port raises on a malformed or out-of-range port
        fail(field, "has a malformed port")
    return value


def size(value, budget=MAX_DOCUMENT_BYTES):
    """Bytes of value as JSON-like text, counting each use of a shared (aliased) part; stops past budget.

    Returns a number > budget as soon as the count passes it, so an alias bomb costs at most budget steps.
    """
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            total += 2
            for key, child in item.items():
                total += len(str(key)) + 4
                stack.append(child)
        elif isinstance(item, (list, tuple)):
            total += 2 + len(item)
            stack.extend(item)
        elif isinstance(item, (str, bytes)):
            total += len(item) + 2
        else:
            total += 8
        if total > budget:
            return total
    return total


def bounded(value, field, budget=MAX_DOCUMENT_BYTES):
    """value when its expanded size is within budget (bytes), else ValidationError(field)."""
    if size(value, budget) > budget:
        fail(field, f"is larger than {budget // 1024} KiB once expanded (YAML anchors and aliases count each time they "
                    "are used): keep documents small, or pass large content as files")
    return value


def inside(directory, path, field):
    """path (resolved, symlinks followed) when it lies in directory (resolved); else ValidationError(field)."""
    root = os.path.realpath(directory)
    resolved = os.path.realpath(path)
    if os.path.commonpath([root, resolved]) != root:
        fail(field, f"would write outside {root}: names are names, never paths")
    return resolved


def writable_directory(path, field):
    """The absolute path of a directory that exists and is writable, or can be created under a writable one."""
    path = _absolute(path, field, "a directory path")
    _nearest_writable(path, path, field)
    return path


def writable_destination(path, field):
    """The absolute path of a file destination that can be written: not a directory, and its nearest existing
    directory writable (missing directories are created later). Checked before the first write of a run."""
    path = _absolute(path, field, "a file path")
    if os.path.isdir(path):
        fail(field, f"{path} is a directory: give a file path")
    if os.path.lexists(path) and not os.path.islink(path) and not os.path.isfile(path):
        fail(field, f"{path} exists and is not a regular file")
    _nearest_writable(os.path.dirname(path), path, field)
    return path


def _absolute(path, field, what):
    if not isinstance(path, str) or not path or "\x00" in path:
        fail(field, f"must be {what}")
    return os.path.abspath(os.path.expanduser(path))


def _nearest_writable(directory, path, field):
    """directory, or its nearest existing ancestor, is a directory this user may create entries in."""
    while not os.path.lexists(directory):
        directory = os.path.dirname(directory)
    if not os.path.isdir(directory):
        fail(field, f"{directory} is not a directory: {path} cannot be created")
    if not os.access(directory, os.W_OK | os.X_OK):
        fail(field, f"cannot write in {directory}: check its owner and permissions")
