# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``etcd-client`` credential: what the etcd health check presents to each member.

One JSON object with three PEM strings: ``ca`` (the etcd CA, which signed the members'
serving certificates), ``cert`` and ``key`` (a client certificate the members accept).
The K8s-on-VM create playbook stores kubeadm's apiserver-etcd-client pair with the etcd CA
(docs/playbooks.md). A document is stored in one canonical form (sorted keys, no spaces), so
storing the same three PEMs again changes nothing.
"""

from __future__ import annotations

import json

FIELDS = ("ca", "cert", "key")
_MARKERS = {"ca": "-----BEGIN CERTIFICATE-----", "cert": "-----BEGIN CERTIFICATE-----", "key": "PRIVATE KEY-----"}


class EtcdClientError(ValueError):
    """A document that is not an etcd-client credential (the message names the field, never its content)."""


def load(text):
    """{ca, cert, key} of an etcd-client document; EtcdClientError when it is not one."""
    try:
        document = json.loads(text)
    except (TypeError, ValueError):
        raise EtcdClientError("an etcd-client credential is a JSON object with ca, cert and key PEMs; this is no JSON") from None
    if not isinstance(document, dict):
        raise EtcdClientError("an etcd-client credential is a JSON object with ca, cert and key PEMs")
    unknown = sorted(set(document) - set(FIELDS))
    if unknown:
        raise EtcdClientError(f"an etcd-client credential has only ca, cert and key; not {', '.join(unknown)}")
    for field in FIELDS:
        value = document.get(field)
        if not isinstance(value, str) or _MARKERS[field] not in value:
            what = "a PEM private key" if field == "key" else "a PEM certificate"
            raise EtcdClientError(f"etcd-client {field} must be {what}")
    return {field: document[field] for field in FIELDS}


def dump(document):
    """The canonical text of {ca, cert, key}."""
    return json.dumps({field: document[field] for field in FIELDS}, sort_keys=True, separators=(",", ":"))


def canonical(text):
    """text checked and in its canonical form."""
    return dump(load(text))
