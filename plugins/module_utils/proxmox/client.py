# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Proxmox VE API client built from the module options.

Wraps proxmoxer's ProxmoxAPI: picks password or token auth, verifies TLS by default (a
CA file when ca_path is set), logs in again once when PVE answers 401 to an expired
ticket, and turns every failure into a typed error from proxmox/errors.py. Paths are
written as PVE documents them, without the /api2/json prefix: ``nodes/pve1/qemu``.

Faults: idempotent reads (GET, HEAD - task-status polls among them) are retried with exponential
backoff on a dropped or refused connection and on 502/503/504, through urllib3's Retry on the
requests session proxmoxer uses (RETRY). PVE answers 500 for permanent errors ("does not
exist"), so 500 is not retried. Writes are never sent twice blindly: urllib3 retries a POST,
PUT or DELETE only when its connection could not be opened (nothing was sent). The login (a
ticket request, which changes nothing on the server) is tried again on a connection error.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import errors

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry
    from proxmoxer import ProxmoxAPI
    from proxmoxer.core import AuthenticationError, ResourceException
    HAS_PROXMOXER = True
    PROXMOXER_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - the module reports missing_required_lib
    HAS_PROXMOXER = False
    PROXMOXER_IMPORT_ERROR = exc

DEFAULT_PORT = 8006
READ_METHODS = frozenset({'GET', 'HEAD'})
RETRY_STATUSES = (502, 503, 504)
READ_RETRIES = 5
LOGIN_ATTEMPTS = 4
BACKOFF_S = 0.5
DEFAULT_TIMEOUT = 30
MAX_TIMEOUT = 3600
UNAUTHORIZED = 401


class ConnectionOptions:
    """The connection half of the options, checked and split the way proxmoxer wants it."""

    def __init__(self, api_url, api_user=None, api_password=None, api_token_id=None, api_token_secret=None,
                 validate_certs=True, ca_path=None, api_timeout=DEFAULT_TIMEOUT):
        if not api_url:
            raise errors.ProxmoxConfigError('api_url: the Proxmox API address is required; set api_url or '
                                            'GPVE_PROXMOX_API_URL (for example https://pve1.example.com:8006) or PROXMOX_HOST')
        self.host, self.port, self.path_prefix = _split_url(api_url)
        self.api_url = api_url
        self.validate_certs = True if validate_certs is None else bool(validate_certs)
        self.ca_path = ca_path
        self.timeout = api_timeout or DEFAULT_TIMEOUT
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)) or not 0 < self.timeout <= MAX_TIMEOUT:
            raise errors.ProxmoxConfigError('api_timeout: must be from 1 to {0} seconds, got {1!r}'.format(
                MAX_TIMEOUT, api_timeout))
        self.user, self.password, self.token_name, self.token_secret = _credentials(
            api_user, api_password, api_token_id, api_token_secret)

    @classmethod
    def from_params(cls, params):
        """From a module's params (the keys of auth_spec.proxmox_auth_argument_spec)."""
        return cls(api_url=params.get('api_url'), api_user=params.get('api_user'),
                   api_password=params.get('api_password'), api_token_id=params.get('api_token_id'),
                   api_token_secret=params.get('api_token_secret'), validate_certs=params.get('validate_certs'),
                   ca_path=params.get('ca_path'), api_timeout=params.get('api_timeout'))

    @property
    def uses_token(self):
        return self.token_name is not None

    @property
    def verify(self):
        """What requests' verify takes: False, True, or the CA bundle to trust."""
        if not self.validate_certs:
            return False
        return self.ca_path or True

    def proxmoxer_kwargs(self):
        kwargs = dict(port=self.port, verify_ssl=self.verify, timeout=self.timeout, user=self.user)
        if self.path_prefix:
            kwargs['path_prefix'] = self.path_prefix
        if self.uses_token:
            kwargs.update(token_name=self.token_name, token_value=self.token_secret)
        else:
            kwargs['password'] = self.password
        return kwargs


def _split_url(api_url):
    parts = urlsplit(api_url if '://' in api_url else 'https://' + api_url)
    if parts.scheme != 'https':
        raise errors.ProxmoxConfigError('api_url: Proxmox VE serves its API over https only; got {0!r}'.format(api_url))
    if '@' in parts.netloc:
        raise errors.ProxmoxConfigError('api_url: must not carry credentials (user:password@); give them in api_user '
                                        'and api_password or api_token_id and api_token_secret, which are never logged')
    if not parts.hostname:
        raise errors.ProxmoxConfigError('api_url: no host name in {0!r}'.format(api_url))
    host = '[{0}]'.format(parts.hostname) if ':' in parts.hostname else parts.hostname
    prefix = parts.path.strip('/')
    if prefix.endswith('api2/json'):
        prefix = prefix[:-len('api2/json')].strip('/')
    return host, parts.port or DEFAULT_PORT, prefix or None


def _credentials(user, password, token_id, token_secret):
    """(user, password, token name, token secret); a token id may carry its user: user@realm!name."""
    if token_id or token_secret:
        if not (token_id and token_secret):
            raise errors.ProxmoxConfigError('api_token_id and api_token_secret: give both (token id as '
                                            'user@realm!name, or the name with api_user), or use api_password')
        if '!' in token_id:
            user, _sep, name = token_id.partition('!')
        else:
            name = token_id
        if not user:
            raise errors.ProxmoxConfigError('api_user: the token {0!r} names no user; set api_user or write the '
                                            'token id as user@realm!{0}'.format(token_id))
        return user, None, name, token_secret
    if user and password:
        return user, password, None, None
    raise errors.ProxmoxConfigError('api_password or api_token_secret: no credentials for Proxmox; set api_user and '
                                    'api_password, or api_token_id and api_token_secret (GPVE_PROXMOX_API_* or PROXMOX_* variables)')


def retry_policy():
    """urllib3 Retry for the session: reads again on connection errors and 502/503/504, writes only unsent."""
    return Retry(total=READ_RETRIES, connect=READ_RETRIES, read=READ_RETRIES, status=READ_RETRIES, other=0,
                 allowed_methods=READ_METHODS, status_forcelist=RETRY_STATUSES, backoff_factor=BACKOFF_S,
                 raise_on_status=False, respect_retry_after_header=True)


def retrying_reads(api):
    """api (a ProxmoxAPI) with RETRY mounted on the requests session proxmoxer keeps in its store."""
    store = getattr(api, '_store', None)
    session = store.get('session') if isinstance(store, dict) else None
    if isinstance(session, requests.Session):
        adapter = HTTPAdapter(max_retries=retry_policy())
        session.mount('https://', adapter)
        session.mount('http://', adapter)
    return api


def raise_login_error(options, exc):
    if isinstance(exc, AuthenticationError):
        raise errors.ProxmoxAuthError('Proxmox refused the login of {0} at {1}: {2}'.format(
            options.user, options.api_url, exc)) from exc
    raise errors.ProxmoxConnectionError('cannot reach the Proxmox API at {0}: {1}'.format(options.api_url, exc)) from exc


class ProxmoxClient:
    """Thread-safe calls to one PVE cluster: get/post/put/delete on API paths."""

    def __init__(self, options, api_factory=None):
        if not HAS_PROXMOXER:
            raise errors.ProxmoxConfigError('the proxmoxer Python package is required: pip install -r requirements.txt')
        self.options = options
        self._factory = api_factory or ProxmoxAPI
        self._lock = threading.Lock()
        self._generation = 0
        self._api = self._login()

    def _login(self):
        for attempt in range(1, LOGIN_ATTEMPTS + 1):
            try:
                return retrying_reads(self._factory(self.options.host, **self.options.proxmoxer_kwargs()))
            except requests.exceptions.ConnectionError as exc:
                if attempt == LOGIN_ATTEMPTS:
                    raise_login_error(self.options, exc)
                time.sleep(BACKOFF_S * 2 ** (attempt - 1))
            except (AuthenticationError, requests.exceptions.RequestException) as exc:
                raise_login_error(self.options, exc)
        raise AssertionError('unreachable')

    def _relogin(self, seen_generation):
        """Log in again, unless another thread already did since seen_generation."""
        with self._lock:
            if self._generation == seen_generation:
                self._api = self._login()
                self._generation += 1

    def get(self, path, **params):
        return self._call('GET', path, params)

    def post(self, path, **data):
        return self._call('POST', path, data)

    def put(self, path, **data):
        return self._call('PUT', path, data)

    def delete(self, path, **params):
        return self._call('DELETE', path, params)

    def _call(self, method, path, values):
        path = path.strip('/')
        generation, api = self._generation, self._api
        try:
            return self._send(api, method, path, values)
        except errors.ProxmoxApiError as exc:
            if exc.status != UNAUTHORIZED or self.options.uses_token:
                raise
        # An expired or revoked ticket: one fresh login, then the same call once more.
        self._relogin(generation)
        try:
            return self._send(self._api, method, path, values)
        except errors.ProxmoxApiError as exc:
            if exc.status == UNAUTHORIZED:
                raise errors.ProxmoxAuthError('Proxmox refused {0} /{1} even after a fresh login: {2}'.format(
                    method, path, exc.pve_message)) from exc
            raise

    def _send(self, api, method, path, values):
        resource = api(path)
        try:
            return getattr(resource, method.lower())(**dict(values))
        except ResourceException as exc:
            raise errors.from_status(method, path, exc.status_code, exc.content, exc.errors) from exc
        except requests.exceptions.RequestException as exc:
            raise errors.ProxmoxConnectionError('cannot reach the Proxmox API at {0} ({1} /{2}): {3}'.format(
                self.options.api_url, method, path, exc)) from exc
