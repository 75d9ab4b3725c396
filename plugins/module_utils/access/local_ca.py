# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client certificates signed with the cluster CA the registry stores.

The ``ca`` credential of a cluster is the CA certificate PEM followed by its private key PEM
(``ca.crt`` and ``ca.key`` concatenated), as a virtual cluster's PKI has them. The API server
trusts it for client certificates (``--client-ca-file``), so what it signs is a user.
"""

from __future__ import annotations

import re

from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs
from ansible_collections.gpve.cluster.plugins.module_utils.pki.errors import PkiError

_CERT = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)
_KEY = re.compile(r"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----", re.S)


def load_ca(text):
    """The certs.Issued CA from the ``ca`` credential text."""
    cert, key = _CERT.search(text), _KEY.search(text)
    if not (cert and key):
        raise PkiError("the ca credential must hold the CA certificate and its private key, both PEM")
    issued = certs.load_issued(cert.group(0), key.group(0), "ca")
    if not certs.is_ca(issued.cert):
        raise PkiError("the ca credential's certificate is not a CA")
    return issued


def sign(ca, user, groups, now, lifetime):
    """(certificate, private key) for user in groups, valid from now for lifetime (never past the CA)."""
    spec = certs.CertSpec(common_name=user, organizations=tuple(groups), usages=frozenset({certs.CLIENT}))
    return certs.issue(spec, ca, now, lifetime)
