# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets of a cluster kept encrypted in the registry: store, delete, export to a 0600 file.

The admin kubeconfig of a K8s-on-VM cluster is type ``kubeconfig``, the etcd client of its
health checks ``etcd-client`` (health.etcd_client); k3s and rke2 join tokens are ``join-token``.
Nothing here returns or logs a secret unless asked to (return_content),
and the module marks the task no_log-worthy in its documentation.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Optional

from ansible_collections.gpve.cluster.plugins.module_utils import checks
from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig
from ansible_collections.gpve.cluster.plugins.module_utils.diffs import diff, secret_digest
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.health import etcd_client
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support import cluster_view
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import NotFound

CREDENTIAL_TYPE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$')


@dataclasses.dataclass
class CredentialRequest:
    name: str
    type: str = kinds.KUBECONFIG
    state: str = 'present'
    content: Optional[str] = None
    src: Optional[str] = None
    overwrite: bool = True
    dest: Optional[str] = None
    return_content: bool = False
    check_mode: bool = False


def _stored(store, cluster_id, credential_type):
    try:
        return store.get_credential(cluster_id, credential_type)
    except NotFound:
        return None


def _new_content(request):
    if request.content is not None and request.src:
        raise ValidationError('content', 'give content or src, not both')
    if request.src:
        path = os.path.expanduser(request.src)
        if not os.path.isfile(path):
            raise ValidationError('src', '{0} is not a file on the controller'.format(request.src))
        with open(path, encoding='utf-8') as handle:
            return handle.read()
    if not request.content:
        raise ValidationError('content', 'state=present needs content or src')
    return request.content


def _checked(request, text):
    """text as it is stored: a kubeconfig checked to be one; an etcd-client document checked and canonical."""
    if request.type == kinds.KUBECONFIG:
        kubeconfig.credentials(kubeconfig.load_kubeconfig(text))
    if request.type == kinds.ETCD_CLIENT:
        try:
            return etcd_client.canonical(text)
        except etcd_client.EtcdClientError as exc:
            raise ValidationError('content', str(exc)) from None
    return text


def _view(request, text):
    """The stored credential as a diff shows it: its type and a digest of the secret."""
    return {} if text is None else {'credential': request.type, 'content': secret_digest(text)}


def _present(store, cluster, request):
    text = _checked(request, _new_content(request))
    current = _stored(store, cluster.id, request.type)
    before = _view(request, current.text if current else None)
    if current is not None and (current.text == text or not request.overwrite):
        return False, current.info.as_dict(), current.text, diff(before, before)
    if request.check_mode:
        return True, None, text, diff(before, _view(request, text))
    info = store.put_credential(cluster.id, request.type, text)
    return True, info.as_dict(), text, diff(before, _view(request, text))


def _absent(store, cluster, request):
    current = _stored(store, cluster.id, request.type)
    if current is None:
        return False, None, None, diff({}, {})
    if not request.check_mode:
        store.delete_credential(cluster.id, request.type)
    return True, current.info.as_dict(), None, diff(_view(request, current.text), {})


def _exported(store, cluster, request):
    current = _stored(store, cluster.id, request.type)
    if current is None:
        raise NotFound('credential', '{0}/{1}'.format(request.name, request.type))
    changed, file_diff = False, diff({}, {})
    if request.dest:
        before = _file_view(request.dest)
        after = {'path': before['path'], 'content': secret_digest(current.text), 'mode': format(kubeconfig.FILE_MODE, '04o')}
        changed, file_diff = before != after, diff(before, after)
        if changed and not request.check_mode:
            kubeconfig.write_kubeconfig(request.dest, current.text)
    return changed, current.info.as_dict(), current.text, file_diff


def _file_view(dest):
    """The exported file as it is: path, digest of its content, mode (content and mode None when it is missing)."""
    path = os.path.abspath(os.path.expanduser(dest))
    try:
        with open(path, encoding='utf-8') as handle:
            return {'path': path, 'content': secret_digest(handle.read()), 'mode': format(os.stat(path).st_mode & 0o777, '04o')}
    except FileNotFoundError:
        return {'path': path, 'content': None, 'mode': None}


ACTIONS = {'present': _present, 'absent': _absent, 'exported': _exported}


def validate(request):
    """Every option checked before the registry is read or written."""
    if not (isinstance(request.name, str) and checks.DNS1123_LABEL.match(request.name) and len(request.name) <= 63):
        checks.registry_id(request.name, 'name')
    if not isinstance(request.type, str) or not CREDENTIAL_TYPE.match(request.type):
        raise ValidationError('type', '{0} is not a credential type (up to 32 letters, digits, ".", "_" and "-", '
                                      'such as kubeconfig)'.format(checks.shown(request.type)))
    if request.state == 'exported' and not (request.dest or request.return_content):
        raise ValidationError('dest', 'state=exported needs dest (a file on the controller) or return_content=true')
    if request.dest:
        checks.writable_destination(request.dest, 'dest')


def apply(store, request):
    """{changed, credential (metadata only), content (only with return_content), diff (digests, never the secret)}."""
    validate(request)
    cluster = cluster_view.find(store, request.name)
    changed, info, text, change = ACTIONS[request.state](store, cluster, request)
    result = {'changed': changed, 'credential': info, 'cluster': cluster_view.cluster_dict(cluster), 'diff': change}
    if request.return_content and text is not None:
        result['content'] = text
    return result
