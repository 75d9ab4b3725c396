"""The one precedence rule for connection settings: task option > GPVE_* > K8S_AUTH_* / PROXMOX_*; token over password
from the environment; both in the task an error. The modules' runs against the testbed are in
tests/integration/ecosystem/test_credentials_from_environment.py."""

from __future__ import annotations

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.gpve.cluster.plugins.doc_fragments.host_cluster import ModuleDocFragment as HostFragment
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.kube import auth_spec as kube_auth
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import auth_spec as proxmox_auth

pytestmark = pytest.mark.ecosystem

PROXMOX_ENV = {'PROXMOX_HOST': 'pve.example', 'PROXMOX_PORT': '8443', 'PROXMOX_USER': 'ops@pve',
               'PROXMOX_PASSWORD': 'pw-eco', 'PROXMOX_VALIDATE_CERTS': 'false', 'PROXMOX_CA_PATH': '/ca.pem',
               'PROXMOX_API_TIMEOUT': '9'}


def proxmox(params=None, environ=None, required=True):
    return proxmox_auth.resolve_proxmox_auth(dict(params or {}), dict(environ or {}), required=required)


def host(params=None, environ=None):
    return kube_auth.resolve_host_cluster(dict(params or {}), dict(environ or {}))


def test_community_proxmox_variables_alone_make_a_connection():
    resolved = proxmox(environ=PROXMOX_ENV)
    assert resolved.values == {'api_url': 'https://pve.example:8443', 'api_user': 'ops@pve', 'api_password': 'pw-eco',
                               'api_token_id': None, 'api_token_secret': None, 'validate_certs': False,
                               'ca_path': '/ca.pem', 'api_timeout': 9}
    assert resolved.secrets == ['pw-eco'] and resolved.warnings == []


@pytest.mark.parametrize('host_value,port,url', [
    ('pve.example', None, 'https://pve.example:8006'), ('fd00::1', '8006', 'https://[fd00::1]:8006'),
    ('https://pve.example:9000', '1', 'https://pve.example:9000'),
])
def test_proxmox_host_becomes_an_api_url(host_value, port, url):
    environ = dict(PROXMOX_ENV, PROXMOX_HOST=host_value)
    environ.pop('PROXMOX_PORT')
    if port:
        environ['PROXMOX_PORT'] = port
    assert proxmox(environ=environ).values['api_url'] == url


def test_task_option_beats_gpve_variable_beats_ecosystem_variable():
    environ = dict(PROXMOX_ENV, GPVE_PROXMOX_API_URL='https://gpve.example:8006', GPVE_PROXMOX_API_USER='gpve@pve')
    resolved = proxmox({'api_user': 'task@pam'}, environ)
    assert resolved.values['api_url'] == 'https://gpve.example:8006'
    assert resolved.values['api_user'] == 'task@pam'
    assert resolved.source('api_url') == 'GPVE_PROXMOX_API_URL' and resolved.source('api_password') == 'PROXMOX_PASSWORD'
    assert proxmox({'validate_certs': True}, environ).values['validate_certs'] is True


def test_a_token_beats_a_password_when_both_come_from_the_environment():
    environ = dict(PROXMOX_ENV, PROXMOX_TOKEN_ID='ci', PROXMOX_TOKEN_SECRET='tok-eco')
    resolved = proxmox(environ=environ)
    assert (resolved.values['api_token_id'], resolved.values['api_token_secret'], resolved.values['api_password']) == (
        'ci', 'tok-eco', None)
    assert resolved.warnings == ['the API token from PROXMOX_TOKEN_SECRET is used; the password from PROXMOX_PASSWORD '
                                 'is ignored (task options beat the environment, and between two from the environment '
                                 'a token wins)']
    assert sorted(resolved.secrets) == ['pw-eco', 'tok-eco']


def test_across_the_two_environment_layers_the_token_still_wins():
    environ = {'GPVE_PROXMOX_API_URL': 'https://pve:8006', 'GPVE_PROXMOX_API_USER': 'u@pam',
               'GPVE_PROXMOX_API_PASSWORD': 'pw', 'PROXMOX_TOKEN_ID': 'u@pam!ci', 'PROXMOX_TOKEN_SECRET': 'tok'}
    resolved = proxmox(environ=environ)
    assert resolved.values['api_password'] is None and resolved.values['api_token_secret'] == 'tok'
    assert 'GPVE_PROXMOX_API_PASSWORD is ignored' in resolved.warnings[0]


def test_a_task_password_beats_a_token_from_the_environment():
    environ = dict(PROXMOX_ENV, PROXMOX_TOKEN_ID='ci', PROXMOX_TOKEN_SECRET='tok-eco')
    resolved = proxmox({'api_password': 'pw-task'}, environ)
    assert (resolved.values['api_password'], resolved.values['api_token_id'], resolved.values['api_token_secret']) == (
        'pw-task', None, None)
    assert resolved.warnings[0].startswith('the password from api_password is used; the API token from '
                                           'PROXMOX_TOKEN_ID, PROXMOX_TOKEN_SECRET is ignored')


def test_both_credentials_as_task_options_stay_an_error():
    spec = proxmox_auth.proxmox_auth_argument_spec()
    result = ArgumentSpecValidator(spec, mutually_exclusive=proxmox_auth.PROXMOX_AUTH_MUTUALLY_EXCLUSIVE).validate(
        {'api_url': 'https://x', 'api_user': 'u@pam', 'api_password': 'p', 'api_token_id': 't', 'api_token_secret': 's'})
    assert result.error_messages == ['parameters are mutually exclusive: api_password|api_token_secret']
    with pytest.raises(ValidationError, match='not both'):  # the rule says so too, should a caller skip the spec
        proxmox({'api_url': 'https://x', 'api_user': 'u@pam', 'api_password': 'p', 'api_token_id': 't',
                 'api_token_secret': 's'})


@pytest.mark.parametrize('environ,field,words', [
    ({}, 'api_url', 'set api_url, GPVE_PROXMOX_API_URL'),
    ({'PROXMOX_HOST': 'h', 'PROXMOX_PORT': 'eighty'}, 'PROXMOX_PORT', 'not a port number'),
    ({'PROXMOX_HOST': 'h', 'PROXMOX_USER': 'u@pam', 'PROXMOX_PASSWORD': 'p', 'PROXMOX_VALIDATE_CERTS': 'maybe'},
     'PROXMOX_VALIDATE_CERTS', 'not a boolean'),
    ({'PROXMOX_HOST': 'h', 'PROXMOX_TOKEN_SECRET': 's'}, 'api_token_id', 'PROXMOX_TOKEN_ID'),
    ({'PROXMOX_HOST': 'h', 'PROXMOX_PASSWORD': 'p'}, 'api_user', 'from PROXMOX_PASSWORD'),
])
def test_bad_or_missing_settings_name_the_setting_and_the_fix(environ, field, words):
    with pytest.raises(ValidationError) as caught:
        proxmox(environ=environ)
    assert caught.value.field == field and words in str(caught.value)


def test_without_an_address_proxmox_is_simply_not_configured_when_optional():
    resolved = proxmox(environ={'PROXMOX_PASSWORD': 'p', 'PROXMOX_TOKEN_SECRET': 't'}, required=False)
    assert resolved.values['api_url'] is None and resolved.warnings == []


def test_a_lone_token_id_from_the_environment_does_not_spoil_a_password_login():
    resolved = proxmox({'api_password': 'p'}, dict(PROXMOX_ENV, PROXMOX_TOKEN_ID='ci'))
    assert resolved.values['api_token_id'] is None and resolved.values['api_password'] == 'p'


K8S_ENV = {'K8S_AUTH_KUBECONFIG': '~/kc.yaml', 'K8S_AUTH_CONTEXT': 'admin', 'K8S_AUTH_VERIFY_SSL': 'no',
           'K8S_AUTH_SSL_CA_CERT': '/ca.crt'}


def test_kubernetes_core_variables_alone_make_a_host_connection(monkeypatch):
    monkeypatch.setenv('HOME', '/home/awx')
    resolved = host(environ=K8S_ENV)
    assert resolved.values == {'host_kubeconfig': '/home/awx/kc.yaml', 'host_context': 'admin', 'host': None,
                               'api_key': None, 'client_cert': None, 'client_key': None, 'validate_certs': False,
                               'ca_cert': '/ca.crt'}


def test_gpve_host_cluster_variables_beat_k8s_auth_and_the_task_beats_both():
    environ = dict(K8S_ENV, GPVE_HOST_CLUSTER_CONTEXT='gpve', GPVE_HOST_CLUSTER_VALIDATE_CERTS='yes')
    resolved = host({'ca_cert': '/task.crt'}, environ)
    assert (resolved.values['host_context'], resolved.values['validate_certs'], resolved.values['ca_cert']) == (
        'gpve', True, '/task.crt')


def test_the_address_with_a_token_beats_a_kubeconfig_from_the_environment():
    environ = dict(K8S_ENV, K8S_AUTH_HOST='https://k8s:6443', K8S_AUTH_API_KEY='bearer')
    resolved = host(environ=environ)
    assert (resolved.values['host'], resolved.values['api_key'], resolved.values['host_kubeconfig']) == (
        'https://k8s:6443', 'bearer', None)
    assert 'K8S_AUTH_KUBECONFIG, K8S_AUTH_CONTEXT is ignored' in resolved.warnings[0]
    assert resolved.secrets == ['bearer']


def test_a_task_kubeconfig_beats_an_address_from_the_environment():
    environ = {'K8S_AUTH_HOST': 'https://k8s:6443', 'K8S_AUTH_API_KEY': 'bearer'}
    resolved = host({'host_kubeconfig': '/kc'}, environ)
    assert (resolved.values['host_kubeconfig'], resolved.values['host'], resolved.values['api_key']) == ('/kc', None, None)
    assert resolved.warnings


def test_a_client_certificate_logs_in_to_the_address():
    environ = {'K8S_AUTH_HOST': 'https://k8s:6443', 'K8S_AUTH_CERT_FILE': '/c.pem', 'K8S_AUTH_KEY_FILE': '/k.pem'}
    resolved = host(environ=environ)
    assert (resolved.values['client_cert'], resolved.values['client_key']) == ('/c.pem', '/k.pem')


@pytest.mark.parametrize('params,environ,field,words', [
    ({}, {'K8S_AUTH_HOST': 'https://k8s:6443'}, 'api_key', 'host (from K8S_AUTH_HOST) needs a bearer token'),
    ({}, {'K8S_AUTH_API_KEY': 't'}, 'host', 'K8S_AUTH_API_KEY needs the API server address'),
    ({'api_key': 't'}, {'K8S_AUTH_KUBECONFIG': '/kc'}, 'host', 'api_key needs the API server address'),
    ({}, {'K8S_AUTH_HOST': 'https://k', 'K8S_AUTH_CERT_FILE': '/c'}, 'api_key', 'client certificate and key'),
    ({}, {'K8S_AUTH_VERIFY_SSL': 'sometimes'}, 'K8S_AUTH_VERIFY_SSL', 'not a boolean'),
])
def test_bad_host_settings_name_the_setting_and_the_fix(params, environ, field, words):
    with pytest.raises(ValidationError) as caught:
        host(params, environ)
    assert caught.value.field == field and words in str(caught.value)


def test_the_host_cluster_fragment_documents_exactly_the_spec_and_its_variables():
    documented = yaml.safe_load(HostFragment.DOCUMENTATION)['options']
    spec = kube_auth.host_cluster_argument_spec()
    assert sorted(documented) == sorted(spec)
    for setting in kube_auth.HOST_CLUSTER_SETTINGS:
        assert documented[setting.name]['type'] == spec[setting.name]['type'], setting.name
        text = ' '.join(documented[setting.name]['description'])
        assert all('C({0})'.format(variable) in text for variable in setting.variables), setting.name
    assert sorted(setting.variables[1] for setting in kube_auth.HOST_CLUSTER_SETTINGS) == sorted(
        'K8S_AUTH_' + name for name in ('KUBECONFIG', 'CONTEXT', 'HOST', 'API_KEY', 'SSL_CA_CERT', 'VERIFY_SSL',
                                        'CERT_FILE', 'KEY_FILE'))


def external(params, environ):
    from ansible_collections.gpve.cluster.plugins.module_utils.external.environment import resolve_cluster_access
    return resolve_cluster_access(dict(dict(state='present', kubeconfig=None, context=None, connection=None), **params),
                                  dict(environ))


def test_external_cluster_from_awx_bearer_token_variables():
    resolved = external({}, {'K8S_AUTH_HOST': 'https://k8s:6443', 'K8S_AUTH_API_KEY': 'tok', 'K8S_AUTH_VERIFY_SSL': 'True',
                             'K8S_AUTH_SSL_CA_CERT': '/ca.pem', 'K8S_AUTH_KUBECONFIG': '/kc'})
    assert resolved.values['connection'] == {'endpoint': 'https://k8s:6443', 'ca_cert': '/ca.pem', 'validate_certs': True,
                                             'auth': {'type': 'token', 'token': 'tok'}}
    assert resolved.values['kubeconfig'] is None and resolved.secrets == ['tok']
    assert 'the kubeconfig from K8S_AUTH_KUBECONFIG is ignored' in resolved.warnings[0]


def test_external_cluster_task_options_win_outright():
    resolved = external({'kubeconfig': '/task-kc'}, {'K8S_AUTH_HOST': 'https://k8s:6443', 'K8S_AUTH_API_KEY': 'tok'})
    assert resolved.values == {'kubeconfig': '/task-kc', 'context': None, 'connection': None}
    assert resolved.warnings == [] and resolved.secrets == []


def test_external_cluster_from_a_kubeconfig_variable_and_nothing_named_fails():
    resolved = external({}, {'K8S_AUTH_KUBECONFIG': '/kc', 'K8S_AUTH_CONTEXT': 'admin'})
    assert (resolved.values['kubeconfig'], resolved.values['context']) == ('/kc', 'admin')
    with pytest.raises(ValidationError, match='K8S_AUTH_KUBECONFIG, or K8S_AUTH_HOST with K8S_AUTH_API_KEY'):
        external({}, {})
    assert external({'state': 'absent'}, {}).values['connection'] is None
