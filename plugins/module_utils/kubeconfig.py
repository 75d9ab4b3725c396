# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubeconfig documents: build, dump, load, read the selected context, write to disk (0600).

One cluster, one user, one context per document built here, with the CA and client
credentials embedded (``*-data`` fields, base64 as clientcmd expects) or a bearer token.
Used for virtual clusters, clusters on VMs, imported clusters and gpve_kubeconfig.
"""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ansible_collections.gpve.cluster.plugins.module_utils import checks, files
from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError

try:
    import yaml
    HAS_YAML = True
    # libyaml's emitter and parser when PyYAML has them: the same text, some twenty times faster (a vCluster run
    # dumps eight kubeconfigs).
    SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core; the import sanity test runs without it
    HAS_YAML = False
    SAFE_DUMPER = SAFE_LOADER = None

FILE_MODE = 0o600


class KubeconfigError(GpveError):
    """A kubeconfig cannot be built or read; the message names the field, never a secret."""


@dataclass(frozen=True)
class Credentials:
    """What the selected context of a kubeconfig holds. Printing it shows names and server only."""

    context: str
    cluster: str
    user: str
    server: str
    namespace: str = ""
    ca_pem: str = field(default="", repr=False)
    client_cert_pem: str = field(default="", repr=False)
    client_key_pem: str = field(default="", repr=False)
    token: str = field(default="", repr=False)


def build_kubeconfig(server, cluster_name, user_name, ca_pem=None, client_cert_pem=None, client_key_pem=None,
                     token=None, context_name=None, namespace=None):
    """A kubeconfig dict for one cluster, user and context (context_name defaults to cluster_name).

    Authentication is a client certificate (client_cert_pem with client_key_pem) or a
    bearer token. Without ca_pem the system trust store verifies the server.
    """
    _check_server(server)
    if bool(client_cert_pem) != bool(client_key_pem):
        raise KubeconfigError("client_cert_pem and client_key_pem go together")
    if token and client_cert_pem:
        raise KubeconfigError("use a client certificate or a token, not both")
    if not (token or client_cert_pem):
        raise KubeconfigError("a kubeconfig needs credentials: a client certificate and key, or a token")
    context_name = context_name or cluster_name
    cluster = {"server": server}
    if ca_pem:
        cluster["certificate-authority-data"] = _b64(ca_pem)
    user = {"token": token} if token else {"client-certificate-data": _b64(client_cert_pem),
                                           "client-key-data": _b64(client_key_pem)}
    context = {"cluster": cluster_name, "user": user_name}
    if namespace:
        context["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": cluster}],
        "contexts": [{"name": context_name, "context": context}],
        "current-context": context_name,
        "preferences": {},
        "users": [{"name": user_name, "user": user}],
    }


def dump_kubeconfig(config):
    """YAML text of a kubeconfig dict; the same dict always gives the same text."""
    _require_yaml()
    return yaml.dump(config, Dumper=SAFE_DUMPER, default_flow_style=False, sort_keys=False)


def load_kubeconfig(text):
    """Parse kubeconfig YAML (text or bytes) into a dict, checking its shape."""
    _require_yaml()
    try:
        config = yaml.load(text, Loader=SAFE_LOADER)  # nosec B506 - a safe loader, libyaml's when present
    except yaml.YAMLError:
        raise KubeconfigError("not a YAML document") from None
    if not isinstance(config, dict) or config.get("kind", "Config") != "Config":
        raise KubeconfigError("not a kubeconfig (kind Config)")
    if checks.size(config) > checks.MAX_DOCUMENT_BYTES:
        raise KubeconfigError(f"larger than {checks.MAX_DOCUMENT_BYTES // 1024} KiB once expanded (YAML anchors and "
                              "aliases count each time they are used)")
    for section in ("clusters", "contexts", "users"):
        entries = config.get(section) or []
        if not isinstance(entries, list) or not all(isinstance(e, dict) and "name" in e for e in entries):
            raise KubeconfigError(f"{section}: a list of named entries is expected")
    return config


def credentials(config, context_name=None):
    """The Credentials of context_name (default: current-context), with PEMs decoded."""
    context_name = context_name or config.get("current-context")
    context = _named(config, "contexts", context_name).get("context") or {}
    cluster = _named(config, "clusters", context.get("cluster")).get("cluster") or {}
    user = _named(config, "users", context.get("user")).get("user") or {}
    return Credentials(
        context=context_name, cluster=context.get("cluster", ""), user=context.get("user", ""),
        server=cluster.get("server", ""), namespace=context.get("namespace", ""),
        ca_pem=_decoded(cluster, "certificate-authority-data"),
        client_cert_pem=_decoded(user, "client-certificate-data"),
        client_key_pem=_decoded(user, "client-key-data"),
        token=user.get("token", ""))


def with_server(config, server, context_name=None):
    """A copy of config whose selected context's cluster points at server."""
    _check_server(server)
    updated = copy.deepcopy(config)
    context_name = context_name or updated.get("current-context")
    cluster_name = (_named(updated, "contexts", context_name).get("context") or {}).get("cluster")
    _named(updated, "clusters", cluster_name).setdefault("cluster", {})["server"] = server
    return updated


def write_kubeconfig(path, text):
    """Write text to path with mode 0600, atomically; False (and no write) when it is already there."""
    return files.write_atomically(path, text, FILE_MODE, directory_mode=0o700)


def _require_yaml():
    if not HAS_YAML:
        raise KubeconfigError("the Python library PyYAML is required")


def _named(config, section, name):
    for entry in config.get(section) or []:
        if entry.get("name") == name:
            return entry
    raise KubeconfigError(f"{section}: no entry named {name!r}")


def _check_server(server):
    parts = urlsplit(server or "")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise KubeconfigError(f"server: {server!r} is not an http(s) URL with a host")


def _b64(pem):
    data = pem.encode("ascii") if isinstance(pem, str) else bytes(pem)
    return base64.b64encode(data).decode("ascii")


def _decoded(section, key):
    value = section.get(key)
    if not value:
        return ""
    try:
        return base64.b64decode(value, validate=True).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise KubeconfigError(f"{key}: not base64-encoded PEM") from None
