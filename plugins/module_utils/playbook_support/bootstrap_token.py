# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubeadm join material made through the Kubernetes API, as ``kubeadm token create`` does.

A bootstrap token is a Secret ``bootstrap-token-<id>`` of type bootstrap.kubernetes.io/token
in kube-system; kubeadm's bootstrap signer then signs the cluster-info ConfigMap with it and
the token cleaner removes it once expired. The discovery hash pins the cluster CA: sha256
over the DER SubjectPublicKeyInfo of the CA certificate. The token is a secret: it is
returned to the caller only, never logged here.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets
import string

from ansible_collections.gpve.cluster.plugins.module_utils import checks, kubeconfig
from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError, ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeApiError, KubeConnectionError
from ansible_collections.gpve.cluster.plugins.module_utils.kube.resources import call_json
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support.errors import TokenError

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - the module reports missing_required_lib
    HAS_CRYPTOGRAPHY = False


TOKEN_CHARS = string.ascii_lowercase + string.digits
TOKEN_FORMAT = re.compile(r'^[a-z0-9]{6}\.[a-z0-9]{16}$')
SECRET_TYPE = 'bootstrap.kubernetes.io/token'
NAMESPACE = 'kube-system'
DEFAULT_GROUPS = ('system:bootstrappers:kubeadm:default-node-token',)
DEFAULT_USAGES = ('authentication', 'signing')
DURATION = re.compile(r'^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$')
# A join token lives for minutes to hours; a week is the most this collection makes.
MAX_TTL_S = 7 * 24 * 3600
MAX_DESCRIPTION = 256


def new_token():
    """(token id, token secret): 6 and 16 characters of [a-z0-9], as kubeadm makes them."""
    return (''.join(secrets.choice(TOKEN_CHARS) for _index in range(6)),
            ''.join(secrets.choice(TOKEN_CHARS) for _index in range(16)))


def ttl_seconds(ttl):
    """'1h30m', '45m', '3600s' or an int of seconds, as seconds (at least 60)."""
    if isinstance(ttl, int):
        seconds = ttl
    else:
        found = DURATION.match(str(ttl).strip())
        if not found or not any(found.groups()):
            raise TokenError('ttl: {0!r} is not a duration such as 1h, 30m or 900s'.format(ttl))
        hours, minutes, secs = (int(part or 0) for part in found.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds < 60:
        raise TokenError('ttl: at least 60 seconds, so that the joining node has time to use it')
    if seconds > MAX_TTL_S:
        raise TokenError('ttl: at most {0}h (7 days): a join token is short-lived'.format(MAX_TTL_S // 3600))
    return seconds


def secret_body(token_id, token_secret, expires_at, description, usages=DEFAULT_USAGES, groups=DEFAULT_GROUPS):
    data = {'token-id': token_id, 'token-secret': token_secret,
            'expiration': expires_at.strftime('%Y-%m-%dT%H:%M:%SZ'), 'description': description,
            'auth-extra-groups': ','.join(groups)}
    for usage in usages:
        data['usage-bootstrap-{0}'.format(usage)] = 'true'
    return {'apiVersion': 'v1', 'kind': 'Secret', 'type': SECRET_TYPE,
            'metadata': {'name': 'bootstrap-token-{0}'.format(token_id), 'namespace': NAMESPACE,
                         'labels': {'app.kubernetes.io/managed-by': 'gpve.cluster'}},
            'stringData': data}


def ca_cert_hash(ca_pem):
    """'sha256:<hex>' of the CA's SubjectPublicKeyInfo, for kubeadm's --discovery-token-ca-cert-hash."""
    if not HAS_CRYPTOGRAPHY:
        raise TokenError('the Python library cryptography is required')
    try:
        certificate = x509.load_pem_x509_certificate(ca_pem.encode('ascii') if isinstance(ca_pem, str) else ca_pem)
    except ValueError:
        raise TokenError('the cluster CA in the kubeconfig is not a PEM certificate') from None
    spki = certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    return 'sha256:' + hashlib.sha256(spki).hexdigest()


def kubeconfig_ca(path):
    """The CA PEM of the kubeconfig's current context (embedded data, or the file it names)."""
    with open(path, encoding='utf-8') as handle:
        config = kubeconfig.load_kubeconfig(handle.read())
    found = kubeconfig.credentials(config)
    if found.ca_pem:
        return found.ca_pem
    context = next(c['context'] for c in config['contexts'] if c['name'] == found.context)
    cluster = next(c['cluster'] for c in config['clusters'] if c['name'] == context['cluster'])
    if cluster.get('certificate-authority'):
        with open(cluster['certificate-authority'], encoding='ascii') as handle:
            return handle.read()
    raise TokenError('the kubeconfig names no cluster CA, so the discovery hash cannot be made')


def check(kubeconfig_path, ttl, description):
    """The one validation pass, before any connection: (ttl in seconds, CA hashes).

    The kubeconfig must be a readable kubeconfig whose current context names an https server without credentials
    in its URL and a cluster CA; every fault of it is refused naming ``kubeconfig``.
    """
    seconds = ttl_seconds(ttl)
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION or not description.isprintable():
        checks.fail('description', 'must be at most {0} printable characters, got {1}'.format(
            MAX_DESCRIPTION, checks.shown(description)))
    try:
        with open(kubeconfig_path, encoding='utf-8') as handle:
            server = kubeconfig.credentials(kubeconfig.load_kubeconfig(handle.read())).server
        checks.url(server, 'server')
        hashes = [ca_cert_hash(kubeconfig_ca(kubeconfig_path))]
    except (OSError, ValueError, StopIteration, KeyError, TypeError, AttributeError, GpveError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc) or type(exc).__name__
        raise ValidationError('kubeconfig', '{0} is not a usable admin kubeconfig: {1}'.format(
            checks.shown(kubeconfig_path), reason)) from None
    if not server.startswith('https://'):
        raise ValidationError('kubeconfig', 'the server must be an https:// URL: the admin credentials go to it')
    return seconds, hashes


def create(kubeconfig_path, ttl='1h', description='made by gpve.cluster for kubeadm join', check_mode=False):
    """Create a bootstrap token; returns {token, token_id, expires_at, ca_cert_hashes}."""
    seconds, hashes = check(kubeconfig_path, ttl, description)
    token_id, token_secret = new_token()
    expires_at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    if not check_mode:
        connection = connect(host_kubeconfig=kubeconfig_path)
        try:
            call_json(connection, 'POST', '/api/v1/namespaces/{0}/secrets'.format(NAMESPACE), 'create the bootstrap token secret',
                      body=secret_body(token_id, token_secret, expires_at, description))
        except KubeApiError as exc:
            raise TokenError('creating the bootstrap token secret failed: {0} {1}'.format(exc.status, exc.reason)) from None
        except KubeConnectionError:
            raise TokenError('creating the bootstrap token secret failed: the API server cannot be reached') from None
        finally:
            connection.close()
    return {'token': '{0}.{1}'.format(token_id, token_secret), 'token_id': token_id,
            'expires_at': expires_at.strftime('%Y-%m-%dT%H:%M:%SZ'), 'ca_cert_hashes': hashes}
