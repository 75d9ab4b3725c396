# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubeconfig gpve stores for an external cluster: one cluster, one user, one context, self-contained.

From a kubeconfig (a path or the YAML itself): the chosen context (default: current-context)
with its cluster and user, every file reference read in (``certificate-authority``,
``client-certificate``, ``client-key``, ``tokenFile``), so the stored copy keeps working
when the files move. From a connection (the seed's ClusterConnection): endpoint, CA and one
of token, client certificate, OIDC (the ``oidc`` auth provider) or an ``exec`` plugin.
PEM values may be given as text or as a path to a file.
"""

from __future__ import annotations

import base64
import copy
import os

from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig as docs
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

AUTH_TYPES = ("token", "certificate", "oidc", "exec")
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
_FILE_FIELDS = {"certificate-authority": "certificate-authority-data", "client-certificate": "client-certificate-data",
                "client-key": "client-key-data"}


def _b64(text):
    return base64.b64encode(text.encode("utf-8") if isinstance(text, str) else text).decode("ascii")


def pem_or_path(field, value):
    """PEM text given inline, or read from the file it names."""
    if value is None:
        return None
    if "-----BEGIN" in value:
        return value
    path = os.path.expanduser(value)
    if not os.path.isfile(path):
        raise ValidationError(field, f"neither PEM text nor a readable file: {value}")
    with open(path, encoding="ascii") as handle:
        return handle.read()


def _read_kubeconfig(kubeconfig):
    """(config dict, directory file references are relative to)."""
    text, base = kubeconfig, os.getcwd()
    if "\n" not in kubeconfig and not kubeconfig.lstrip().startswith("{"):
        path = os.path.expanduser(kubeconfig)
        if not os.path.isfile(path):
            raise ValidationError("kubeconfig", f"{kubeconfig} is not a file (give a path or the kubeconfig itself)")
        with open(path, encoding="utf-8") as handle:
            text, base = handle.read(), os.path.dirname(os.path.abspath(path))
    try:
        return docs.load_kubeconfig(text), base
    except docs.KubeconfigError as exc:
        raise ValidationError("kubeconfig", str(exc)) from None


def _named(config, section, name, field):
    for entry in config.get(section) or []:
        if entry.get("name") == name:
            return copy.deepcopy(entry.get(section[:-1]) or {})
    known = ", ".join(entry.get("name", "?") for entry in config.get(section) or []) or "none"
    raise ValidationError(field, f"no {section[:-1]} named {name!r} in the kubeconfig (found: {known})")


def _inline_files(section, base, field):
    for file_key, data_key in _FILE_FIELDS.items():
        if section.get(file_key):
            path = os.path.join(base, os.path.expanduser(section.pop(file_key)))
            if not os.path.isfile(path):
                raise ValidationError(field, f"{file_key} {path} does not exist")
            with open(path, "rb") as handle:
                section[data_key] = _b64(handle.read())
    if section.get("tokenFile"):
        path = os.path.join(base, os.path.expanduser(section.pop("tokenFile")))
        with open(path, encoding="utf-8") as handle:
            section["token"] = handle.read().strip()
    return section


def _single(server_section, user_section, context_name, namespace=None):
    context = {"cluster": context_name, "user": context_name}
    if namespace:
        context["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": context_name, "cluster": server_section}],
            "users": [{"name": context_name, "user": user_section}],
            "contexts": [{"name": context_name, "context": context}], "current-context": context_name}


def from_kubeconfig(kubeconfig, context=None):
    """The self-contained single-context kubeconfig of context (default: current-context)."""
    config, base = _read_kubeconfig(kubeconfig)
    context_name = context or config.get("current-context")
    if not context_name:
        raise ValidationError("context", "the kubeconfig has no current-context: name one")
    selected = _named(config, "contexts", context_name, "context")
    cluster = _inline_files(_named(config, "clusters", selected.get("cluster"), "kubeconfig"), base, "kubeconfig")
    user = _inline_files(_named(config, "users", selected.get("user"), "kubeconfig"), base, "kubeconfig")
    if not cluster.get("server"):
        raise ValidationError("kubeconfig", f"the cluster of context {context_name!r} has no server")
    return _single(cluster, user, context_name, selected.get("namespace")), auth_type_of(user)


def auth_type_of(user):
    if user.get("exec"):
        return "exec"
    if (user.get("auth-provider") or {}).get("name") == "oidc":
        return "oidc"
    if user.get("client-certificate-data"):
        return "certificate"
    if user.get("token"):
        return "token"
    return "other"


def _user(auth):
    kind = auth.get("type")
    if kind == "token":
        if not auth.get("token"):
            raise ValidationError("connection.auth.token", "is required with type=token")
        return {"token": auth["token"]}
    if kind == "certificate":
        if not (auth.get("client_cert") and auth.get("client_key")):
            raise ValidationError("connection.auth", "client_cert and client_key are required with type=certificate")
        return {"client-certificate-data": _b64(pem_or_path("connection.auth.client_cert", auth["client_cert"])),
                "client-key-data": _b64(pem_or_path("connection.auth.client_key", auth["client_key"]))}
    if kind == "oidc":
        return {"auth-provider": {"name": "oidc", "config": _oidc(auth.get("oidc") or {})}}
    if kind == "exec":
        return {"exec": _exec(auth.get("exec") or {})}
    raise ValidationError("connection.auth.type", f"must be one of {', '.join(AUTH_TYPES)}")


def _oidc(oidc):
    for field in ("issuer_url", "client_id", "id_token"):
        if not oidc.get(field):
            raise ValidationError(f"connection.auth.oidc.{field}", "is required with type=oidc")
    config = {"idp-issuer-url": oidc["issuer_url"], "client-id": oidc["client_id"], "id-token": oidc["id_token"]}
    for field, key in (("client_secret", "client-secret"), ("refresh_token", "refresh-token")):
        if oidc.get(field):
            config[key] = oidc[field]
    if oidc.get("ca_cert"):
        config["idp-certificate-authority-data"] = _b64(pem_or_path("connection.auth.oidc.ca_cert", oidc["ca_cert"]))
    return config


def _exec(spec):
    if not spec.get("command"):
        raise ValidationError("connection.auth.exec.command", "is required with type=exec")
    plugin = {"apiVersion": spec.get("api_version") or EXEC_API_VERSION, "command": spec["command"]}
    if spec.get("args"):
        plugin["args"] = [str(arg) for arg in spec["args"]]
    if spec.get("env"):
        plugin["env"] = [{"name": str(key), "value": str(value)} for key, value in sorted(spec["env"].items())]
    return plugin


def from_connection(name, connection):
    """A kubeconfig for the seed's ClusterConnection {endpoint, ca_cert, validate_certs, auth}."""
    endpoint = connection.get("endpoint")
    if not endpoint:
        raise ValidationError("connection.endpoint", "is required")
    cluster = {"server": endpoint}
    if connection.get("ca_cert"):
        cluster["certificate-authority-data"] = _b64(pem_or_path("connection.ca_cert", connection["ca_cert"]))
    if connection.get("validate_certs") is False:
        cluster["insecure-skip-tls-verify"] = True
    auth = connection.get("auth") or {}
    return _single(cluster, _user(auth), name), auth.get("type")


def server_of(config):
    return config["clusters"][0]["cluster"]["server"]
