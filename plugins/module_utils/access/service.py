# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mint a short-lived kubeconfig for any registered cluster.

The way (``method``): ``ca`` signs locally with the cluster CA the registry stores
(credential ``ca``: virtual clusters, or any cluster whose CA was stored); ``csr`` asks the
cluster's CertificateSigningRequest API with the stored admin kubeconfig; ``token`` asks
its TokenRequest API for a ServiceAccount token (token.py); ``auto`` takes ``ca`` when
there is one, else ``csr`` when the cluster honours a CSR's requested expiry (Kubernetes
1.22 and later), else ``token``. A credential that would outlive ``expiry_hours`` is never
handed out. Each issued credential is recorded (credential ``issued-<serial>`` holding its
metadata, with its expiry) and gets a ``KubeconfigIssued`` event; expired records of the
cluster are pruned then.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import os
from typing import List, Optional

from ansible_collections.gpve.cluster.plugins.module_utils import checks, files, kubeconfig as docs
from ansible_collections.gpve.cluster.plugins.module_utils.access import csr, expiry, local_ca, token
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.kube.api import ClusterApi
from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeError
from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs, keys
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds

ISSUED_PREFIX = "issued-"
METHODS = ("auto", "csr", "ca", "token")
MASTERS = "system:masters"
# The CSR API refuses system:masters for client certificates: admins minted that way get this group,
# bound to cluster-admin by a ClusterRoleBinding of the same name that gpve creates when missing.
CSR_ADMIN_GROUP = "gpve:cluster-admins"
EVENT_REASON = "KubeconfigIssued"
# X.509's upper bound for a common name and an organization (RFC 5280 ub-common-name, ub-organization-name).
MAX_SUBJECT = 64
MAX_GROUPS = 32
MAX_TIMEOUT_S = 300
# Files written beside dest when embed_certs is false: (section, data key, path key, suffix).
CERT_FILES = (("clusters", "certificate-authority-data", "certificate-authority", "-ca.crt"),
              ("users", "client-certificate-data", "client-certificate", ".crt"),
              ("users", "client-key-data", "client-key", ".key"))


@dataclasses.dataclass
class Request:
    name: Optional[str] = None
    id: Optional[str] = None
    dest: Optional[str] = None
    context_name: Optional[str] = None
    server: Optional[str] = None
    embed_certs: bool = True
    expiry_hours: Optional[int] = None
    user: str = "gpve-admin"
    groups: Optional[List[str]] = None
    method: str = "auto"
    timeout: float = 10.0
    check_mode: bool = False


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


class KubeconfigService:
    def __init__(self, store):
        self.store = store

    def run(self, request):
        hours = validate(request)
        cluster = self.store.get_cluster(request.id) if request.id else self.store.get_cluster_by_name(request.name)
        present = {info.type for info in self.store.list_credentials(cluster_id=cluster.id)}
        admin = self._admin_kubeconfig(present, cluster)
        method = self._method(request, present, admin, cluster)
        server = request.server or cluster.status.endpoint or (admin and docs.credentials(admin).server)
        if not server:
            raise ValidationError("server", f"cluster {cluster.name} has no known endpoint: give server")
        context = request.context_name or checks.file_name(f"gpve_{cluster.name}", "context_name")
        request = dataclasses.replace(request, groups=_groups(request.groups, method))
        summary = {"id": cluster.id, "name": cluster.name, "type": cluster.type}
        identity = _identity(request, method)
        if request.check_mode:
            expires = _utcnow() + expiry.lifetime(hours)
            return dict(identity, changed=True, cluster=summary, method=method, context=context, server=server,
                        expires_at=expires.isoformat())
        if method == "token":
            minted = self._mint_token(cluster, admin, request, hours)
            config = docs.build_kubeconfig(server, context, f"{request.user}@{cluster.name}",
                                           ca_pem=docs.credentials(admin).ca_pem or None, token=minted.token,
                                           context_name=context)
            expires_at, serial = minted.expires_at, minted.id
        else:
            issued, ca_pem = self._mint(method, cluster, admin, request, hours)
            config = docs.build_kubeconfig(server, context, f"{request.user}@{cluster.name}", ca_pem=ca_pem,
                                           client_cert_pem=certs.cert_pem(issued.cert),
                                           client_key_pem=keys.private_key_pem(issued.key), context_name=context)
            expires_at, serial = certs.not_after(issued.cert), format(issued.cert.serial_number, "x")
        result = dict(identity, changed=True, cluster=summary, method=method, context=context, server=server,
                      expires_at=expires_at.isoformat(), serial=serial)
        if request.dest:
            result["dest"] = self._write(request, config, context)
        else:
            result["kubeconfig"] = docs.dump_kubeconfig(config)
        self._record(cluster, result, request)
        return result

    @staticmethod
    def _method(request, present, admin, cluster):
        """The method that mints: ca, csr or token (auto asks the cluster's version when there is no stored CA)."""
        wanted = request.method
        if wanted not in METHODS:
            raise ValidationError("method", f"must be one of {', '.join(METHODS)}")
        if wanted == "ca" or (wanted == "auto" and kinds.CA in present):
            if kinds.CA not in present:
                raise ValidationError("method", "ca needs the cluster CA in the registry (credential 'ca'), and there is none")
            return "ca"
        if kinds.KUBECONFIG not in present:
            raise ValidationError("method", "the registry holds neither the cluster CA (credential 'ca') nor an admin "
                                            "kubeconfig (credential 'kubeconfig') for this cluster: nothing can mint a credential")
        if wanted != "auto":
            return wanted
        with ClusterApi(connect(kubeconfig=admin), timeout=request.timeout) as client:
            try:
                version = client.version()
            except KubeError as exc:
                raise csr.CsrError(f"cannot ask cluster {cluster.name} for its version to choose how to mint: {exc}") from None
        # Before 1.22 the CSR signer ignores the requested expiry; TokenRequest honours it there.
        return "csr" if csr.honours_expiration(version) else "token"

    def _admin_kubeconfig(self, present, cluster):
        if kinds.KUBECONFIG not in present:
            return None
        return docs.load_kubeconfig(self.store.get_credential(cluster.id, kinds.KUBECONFIG).text)

    def _mint(self, method, cluster, admin, request, hours):
        now = _utcnow()
        if method == "ca":
            ca = local_ca.load_ca(self.store.get_credential(cluster.id, kinds.CA).text)
            issued = local_ca.sign(ca, request.user, request.groups, now, expiry.lifetime(hours))
            ca_pem = docs.credentials(admin).ca_pem if admin else ""
            return issued, ca_pem or certs.cert_pem(ca.cert)
        with ClusterApi(connect(kubeconfig=admin), timeout=request.timeout) as client:
            if request.groups == [CSR_ADMIN_GROUP]:
                csr.ensure_admin_binding(client, CSR_ADMIN_GROUP)
            issued = csr.mint(client, request.user, request.groups, hours * 3600, approver=self.store.actor)
        if expiry.too_long(certs.not_after(issued.cert), now, hours):
            raise csr.CsrError(f"the cluster's signer issued a certificate valid until {certs.not_after(issued.cert).isoformat()}, "
                               f"longer than the {hours}h asked for (Kubernetes before 1.22 ignores a CSR's expirationSeconds): "
                               "its key was discarded and nothing was written or recorded")
        return issued, docs.credentials(admin).ca_pem or None

    def _mint_token(self, cluster, admin, request, hours):
        now = _utcnow()
        account = token.account_name(request.user)
        with ClusterApi(connect(kubeconfig=admin), timeout=request.timeout) as client:
            token.ensure_account(client, account, admin=request.groups is None)
            minted = token.mint(client, account, hours * 3600)
        if expiry.too_long(minted.expires_at, now, hours):
            raise token.TokenError(f"cluster {cluster.name} issued a token valid until {minted.expires_at.isoformat()}, longer "
                                   f"than the {hours}h asked for: it was discarded and nothing was written or recorded")
        return minted

    @staticmethod
    def _write(request, config, context):
        dest = checks.writable_destination(request.dest, "dest")
        if not request.embed_certs:
            config = _with_files(config, dest, context)
        docs.write_kubeconfig(dest, docs.dump_kubeconfig(config))
        return dest

    def _record(self, cluster, result, request):
        not_after = datetime.datetime.fromisoformat(result["expires_at"])
        serial, method = result["serial"], result["method"]
        details = {"serial": serial, "user": result["user"], "groups": list(result["groups"]), "method": method,
                   "context": result["context"], "expires_at": result["expires_at"], "dest": request.dest}
        if result.get("service_account"):
            details.update(service_account=result["service_account"], bound_role=result.get("bound_role"))
        now = _utcnow()
        for info in self.store.list_credentials(cluster_id=cluster.id):
            if info.type.startswith(ISSUED_PREFIX) and info.expires_at and info.expires_at < now:
                self.store.delete_credential(cluster.id, info.type)
        self.store.put_credential(cluster.id, (ISSUED_PREFIX + serial)[:32], json.dumps(details), expires_at=not_after)
        self.store.add_event(cluster.id, "Normal", EVENT_REASON,
                             f"kubeconfig for {details['user']} ({', '.join(details['groups']) or 'no groups'}) issued by "
                             f"{method}, valid until {not_after.isoformat()}", details)


def validate(request):
    """Every option checked before anything is minted, created in the cluster, written or recorded; the hours."""
    hours = expiry.checked_hours(request.expiry_hours)
    if request.method not in METHODS:
        raise ValidationError("method", f"must be one of {', '.join(METHODS)}")
    if request.name is not None:
        checks.cluster_name(request.name, "name")
    if request.id is not None:
        checks.registry_id(request.id, "id")
    if request.context_name is not None:
        checks.file_name(request.context_name, "context_name")
    _subject(request.user, "user")
    if request.groups is not None:
        if len(request.groups) > MAX_GROUPS:
            raise ValidationError("groups", f"at most {MAX_GROUPS} groups")
        for index, group in enumerate(request.groups):
            _subject(group, f"groups[{index}]")
    if request.server is not None:
        checks.url(request.server, "server")
    checks.number(request.timeout, "timeout", 0.1, MAX_TIMEOUT_S)
    if not request.embed_certs and not request.dest:
        raise ValidationError("embed_certs", "false writes the certificates as files beside dest: set dest")
    if request.dest is not None:
        checks.writable_destination(request.dest, "dest")
    return hours


def _subject(value, field):
    """A user or group name as a certificate subject carries it: printable, without control characters, bounded."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_SUBJECT or not value.isprintable():
        raise ValidationError(field, f"must be 1 to {MAX_SUBJECT} printable characters, got {checks.shown(value)}")
    return value


def _identity(request, method):
    """Who the credential authenticates as: user and groups (and, for a token, its ServiceAccount and bound role)."""
    if method != "token":
        return {"user": request.user, "groups": list(request.groups)}
    account = token.account_name(request.user)
    return {"user": f"system:serviceaccount:{token.NAMESPACE}:{account}",
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{token.NAMESPACE}"],
            "service_account": f"{token.NAMESPACE}/{account}",
            "bound_role": token.ADMIN_ROLE if request.groups is None else None}


def _groups(groups, method):
    if method == "token":
        if groups:
            raise ValidationError("groups", "a ServiceAccount token (method token) carries the ServiceAccount's groups, not "
                                            "chosen ones: leave groups unset for cluster-admin, or set groups: [] and bind "
                                            f"roles to ServiceAccount {token.NAMESPACE}/<user> yourself")
        return groups
    if groups is None:
        return [MASTERS] if method == "ca" else [CSR_ADMIN_GROUP]
    if method == "csr" and MASTERS in groups:
        raise ValidationError("groups", f"the CSR API refuses client certificates for {MASTERS}; leave groups unset for "
                                        f"{CSR_ADMIN_GROUP} (bound to cluster-admin) or name groups bound by RBAC")
    return list(groups)


def _with_files(config, dest, context):
    """config with its CA and client pair written as 0600 files beside dest and referenced by path.

    context is a name (checked by validate); every file lands in dest's directory, which is created 0700.
    """
    directory = os.path.dirname(dest)
    checks.file_name(context, "context_name")
    files.make_private_dirs(directory)
    entries = {"clusters": config["clusters"][0]["cluster"], "users": config["users"][0]["user"]}
    for section_name, data_key, path_key, suffix in CERT_FILES:
        section = entries[section_name]
        if section.get(data_key):
            path = os.path.join(directory, context + suffix)
            if os.path.dirname(path) != directory:
                raise ValidationError("context_name", "would write outside dest's directory: names are names, never paths")
            docs.write_kubeconfig(path, base64.b64decode(section.pop(data_key)).decode("ascii"))
            section[path_key] = path
    return config
