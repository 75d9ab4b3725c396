"""The shared Proxmox connection spec: the environment read after it, secrets hidden, and the doc fragment in step."""

from __future__ import annotations

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.gpve.cluster.plugins.doc_fragments.proxmox_auth import ModuleDocFragment
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import auth_spec
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox.client import ConnectionOptions
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox.errors import ProxmoxConfigError

pytestmark = pytest.mark.k8s_vm


def full_spec():
    return dict(auth_spec.proxmox_auth_argument_spec(), **auth_spec.proxmox_target_argument_spec())


def validate(params):
    validator = ArgumentSpecValidator(full_spec(), mutually_exclusive=auth_spec.PROXMOX_AUTH_MUTUALLY_EXCLUSIVE)
    return validator.validate(params)


def test_every_option_is_read_from_its_environment_variable():
    env = {'GPVE_PROXMOX_API_URL': 'https://pve.example:8006', 'GPVE_PROXMOX_API_TOKEN_ID': 'ops@pve!ci',
           'GPVE_PROXMOX_API_TOKEN_SECRET': 's3cr3t-token', 'GPVE_PROXMOX_CA_PATH': '/etc/ssl/pve.pem'}
    result = validate({})
    assert result.error_messages == []
    resolved = auth_spec.resolve_proxmox_auth(result.validated_parameters, env)
    assert (resolved.values['api_url'], resolved.values['api_token_id'], resolved.values['ca_path']) == (
        'https://pve.example:8006', 'ops@pve!ci', '/etc/ssl/pve.pem')
    assert resolved.values['validate_certs'] is True and resolved.values['api_timeout'] == 30
    assert resolved.secrets == ['s3cr3t-token']


def test_node_and_storage_fall_back_to_their_environment_variables(monkeypatch):
    monkeypatch.setenv('GPVE_PROXMOX_NODE', 'pve2')
    monkeypatch.setenv('GPVE_PROXMOX_STORAGE', 'ceph')
    params = validate({}).validated_parameters
    assert (params['node'], params['storage']) == ('pve2', 'ceph')


def test_passwords_and_token_secrets_are_no_log_and_token_ids_are_not():
    spec = full_spec()
    assert spec['api_password']['no_log'] is True and spec['api_token_secret']['no_log'] is True
    assert spec['api_token_id']['no_log'] is False


def test_credentials_are_required_and_exclusive_in_the_task():
    def resolve(params):
        return auth_spec.resolve_proxmox_auth(validate(params).validated_parameters, {})
    with pytest.raises(ValidationError, match='^api_password: no Proxmox credentials'):
        resolve({'api_url': 'https://x'})
    with pytest.raises(ValidationError, match='^api_user: api_password .from api_password. needs the user'):
        resolve({'api_url': 'https://x', 'api_password': 'p'})
    assert resolve({'api_url': 'https://x', 'api_user': 'root@pam', 'api_password': 'p'}).warnings == []
    assert validate({'api_url': 'https://x', 'api_user': 'root@pam', 'api_password': 'p',
                     'api_token_id': 't', 'api_token_secret': 's'}).error_messages


def test_the_doc_fragment_documents_exactly_the_spec_and_its_variables():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
    documented.update(yaml.safe_load(ModuleDocFragment.TARGET)['options'])
    spec = full_spec()
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        assert documented[name]['type'] == option['type'], name
        assert documented[name].get('default') == option.get('default'), name
    variables = dict((setting.name, setting.variables) for setting in auth_spec.PROXMOX_SETTINGS)
    variables.update(node=('GPVE_PROXMOX_NODE',), storage=('GPVE_PROXMOX_STORAGE',))
    for name, names in variables.items():
        text = ' '.join(documented[name]['description'])
        assert all('C({0})'.format(variable) in text for variable in names), name


@pytest.mark.parametrize('url,host,port,prefix', [
    ('https://pve.example:8006', 'pve.example', 8006, None), ('pve.example', 'pve.example', 8006, None),
    ('https://10.0.0.1:443/pve/api2/json', '10.0.0.1', 443, 'pve'), ('https://[fd00::1]:8006', '[fd00::1]', 8006, None),
])
def test_api_url_forms(url, host, port, prefix):
    options = ConnectionOptions(url, api_user='root@pam', api_password='x')
    assert (options.host, options.port, options.path_prefix) == (host, port, prefix)


def test_tls_verification_follows_validate_certs_and_ca_path():
    assert ConnectionOptions('https://h', api_user='u@pam', api_password='p').verify is True
    assert ConnectionOptions('https://h', api_user='u@pam', api_password='p', ca_path='/ca.pem').verify == '/ca.pem'
    assert ConnectionOptions('https://h', api_user='u@pam', api_password='p', validate_certs=False,
                             ca_path='/ca.pem').verify is False


def test_token_id_carries_its_user_or_takes_api_user():
    full = ConnectionOptions('https://h', api_token_id='ops@pve!ci', api_token_secret='s')
    assert (full.user, full.token_name, full.uses_token) == ('ops@pve', 'ci', True)
    short = ConnectionOptions('https://h', api_user='ops@pve', api_token_id='ci', api_token_secret='s')
    assert (short.user, short.token_name) == ('ops@pve', 'ci')


@pytest.mark.parametrize('kwargs,words', [
    ({}, 'no credentials'), ({'api_token_id': 'ci'}, 'give both'),
    ({'api_token_id': 'ci', 'api_token_secret': 's'}, 'names no user'),
])
def test_bad_credentials_are_config_errors(kwargs, words):
    with pytest.raises(ProxmoxConfigError) as caught:
        ConnectionOptions('https://h', **kwargs)
    assert words in str(caught.value)


def test_http_is_refused():
    with pytest.raises(ProxmoxConfigError):
        ConnectionOptions('http://pve.example:8006', api_user='u@pam', api_password='p')
