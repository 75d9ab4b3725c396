# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole PKI bundle of a virtual cluster: generate it, flatten it, read it back.

``secret_data`` gives the flat entry -> PEM (or kubeconfig YAML) map vcluster keeps in
the ``<name>-certs`` Secret; ``load_bundle`` reads that map back. The component
kubeconfigs in it point at the API server on the pod's loopback, as vcluster's do.
``vcluster_kubeconfig_data`` gives the ``vc-<name>`` Secret with vcluster's key names
(config, certificate-authority, client-certificate, client-key).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig
from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs, keys, layout
from ansible_collections.gpve.cluster.plugins.module_utils.pki.errors import PkiError

IN_POD_SERVER = "https://127.0.0.1:6443"
# kubeadm's cluster name inside the component kubeconfigs; contexts are <user>@<cluster>.
COMPONENT_CLUSTER_NAME = "kubernetes"
ADMIN = "admin"
VCLUSTER_CONFIG = "config"
VCLUSTER_CA = "certificate-authority"
VCLUSTER_CLIENT_CERT = "client-certificate"
VCLUSTER_CLIENT_KEY = "client-key"


@dataclass(repr=False)
class Bundle:
    """CAs and leaves by name (certs.Issued), the service-account key, and leaves that did not parse."""

    cas: dict
    leaves: dict
    service_account_key: object = None
    unreadable: tuple = field(default=())

    def __repr__(self):
        return f"Bundle(cas={sorted(self.cas)}, leaves={sorted(self.leaves)})"


def generate_bundle(params, now=None):
    """A complete new bundle for params: new CAs, every leaf, a new service-account key."""
    layout.validate_params(params)
    now = now or certs.utcnow()
    cas = {name: certs.new_ca(common_name, now, params.ca_validity, params.algorithm)
           for name, common_name in layout.CA_COMMON_NAMES.items()}
    bundle = Bundle(cas=cas, leaves={}, service_account_key=keys.generate_private_key(params.algorithm))
    for leaf in layout.leaves(params):
        bundle.leaves[leaf.name] = issue_leaf(bundle, leaf, params, now)
    return bundle


def issue_leaf(bundle, leaf, params, now):
    """A new certificate and key for leaf (a layout.Leaf) from its CA in bundle."""
    return certs.issue(leaf.spec, bundle.cas[leaf.ca], now, params.leaf_validity, params.algorithm)


def secret_data(bundle, server=IN_POD_SERVER):
    """The flat entry -> text map of the ``<name>-certs`` Secret (deterministic for one bundle)."""
    data = {}
    for name, issued in bundle.cas.items():
        data[f"{name}.crt"] = certs.cert_pem(issued.cert)
        data[f"{name}.key"] = keys.private_key_pem(issued.key)
    for name, issued in bundle.leaves.items():
        if name in layout.KUBECONFIG_USERS:
            data[f"{name}.conf"] = kubeconfig.dump_kubeconfig(component_kubeconfig(bundle, name, server))
        else:
            data[f"{name}.crt"] = certs.cert_pem(issued.cert)
            data[f"{name}.key"] = keys.private_key_pem(issued.key)
    data[layout.SERVICE_ACCOUNT_KEY] = keys.private_key_pem(bundle.service_account_key)
    data[layout.SERVICE_ACCOUNT_PUB] = keys.public_key_pem(bundle.service_account_key)
    return dict(sorted(data.items()))


def component_kubeconfig(bundle, leaf_name, server):
    """The kubeconfig dict of a kubeconfig-stored leaf (admin, controller-manager, scheduler)."""
    issued = bundle.leaves[leaf_name]
    user = layout.KUBECONFIG_USERS[leaf_name]
    return kubeconfig.build_kubeconfig(
        server, COMPONENT_CLUSTER_NAME, user, ca_pem=certs.cert_pem(bundle.cas[layout.LEAF_CAS[leaf_name]].cert),
        client_cert_pem=certs.cert_pem(issued.cert), client_key_pem=keys.private_key_pem(issued.key),
        context_name=f"{user}@{COMPONENT_CLUSTER_NAME}")


def admin_kubeconfig(bundle, server, cluster_name, context_name=None, namespace=None):
    """The admin kubeconfig dict for users: CA embedded, the admin client certificate, server as given."""
    admin = bundle.leaves[ADMIN]
    return kubeconfig.build_kubeconfig(
        server, cluster_name, f"{cluster_name}-admin", ca_pem=certs.cert_pem(bundle.cas[layout.CLUSTER_CA].cert),
        client_cert_pem=certs.cert_pem(admin.cert), client_key_pem=keys.private_key_pem(admin.key),
        context_name=context_name or cluster_name, namespace=namespace)


def vcluster_kubeconfig_data(bundle, server, cluster_name, context_name=None):
    """The ``vc-<name>`` Secret's entries, with vcluster's key names."""
    config = admin_kubeconfig(bundle, server, cluster_name, context_name)
    admin = bundle.leaves[ADMIN]
    return {
        VCLUSTER_CONFIG: kubeconfig.dump_kubeconfig(config),
        VCLUSTER_CA: certs.cert_pem(bundle.cas[layout.CLUSTER_CA].cert),
        VCLUSTER_CLIENT_CERT: certs.cert_pem(admin.cert),
        VCLUSTER_CLIENT_KEY: keys.private_key_pem(admin.key),
    }


def load_bundle(data, params):
    """A Bundle from a Secret's entries (text or bytes values).

    The CAs must be there and sound (a CA is never replaced behind the user's back);
    leaves or the service-account key that are absent stay absent, and leaves that do not
    parse are listed in ``unreadable``, for renewal to issue again.
    """
    cas = {name: _load_ca(data, name) for name in layout.CA_COMMON_NAMES}
    bundle = Bundle(cas=cas, leaves={})
    unreadable = []
    for leaf in layout.leaves(params):
        if not all(entry in data for entry in leaf.entries):
            continue
        try:
            bundle.leaves[leaf.name] = _load_leaf(data, leaf)
        except (PkiError, kubeconfig.KubeconfigError):
            unreadable.append(leaf.name)
    bundle.unreadable = tuple(unreadable)
    if layout.SERVICE_ACCOUNT_KEY in data:
        bundle.service_account_key = keys.load_private_key(data[layout.SERVICE_ACCOUNT_KEY], layout.SERVICE_ACCOUNT_KEY)
    return bundle


def _load_ca(data, name):
    if f"{name}.crt" not in data or f"{name}.key" not in data:
        raise PkiError(f"{name}.crt and {name}.key must both be present: the CA {name!r} is never regenerated "
                       "over an existing bundle; delete the whole Secret to start a new PKI")
    issued = certs.load_issued(data[f"{name}.crt"], data[f"{name}.key"], name)
    if not certs.is_ca(issued.cert):
        raise PkiError(f"{name}.crt is not a CA certificate")
    return issued


def _load_leaf(data, leaf):
    if leaf.in_kubeconfig:
        entry = leaf.entries[0]
        found = kubeconfig.credentials(kubeconfig.load_kubeconfig(_text(data[entry])))
        return certs.load_issued(found.client_cert_pem, found.client_key_pem, entry)
    return certs.load_issued(data[leaf.entries[0]], data[leaf.entries[1]], leaf.name)


def _text(value):
    return value.decode("utf-8") if isinstance(value, (bytes, bytearray)) else value
