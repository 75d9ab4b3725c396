"""The whole bundle: vcluster's entry names, SANs, chains, kubeconfigs, flat map round trip."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography.x509.oid import NameOID

from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.pki import bundle as bundles
from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs, keys, layout
from ansible_collections.gpve.cluster.plugins.module_utils.pki.errors import PkiError

pytestmark = pytest.mark.vcluster

NOW = datetime.datetime(2026, 1, 15, 12, 0, tzinfo=datetime.timezone.utc)
PARAMS = layout.PkiParams(name="demo", namespace="vc-demo", service_cidr="10.100.0.0/16",
                          extra_sans=("API.example.com", "192.0.2.10"))

# The keys vcluster's pkg/certs keeps in the <name>-certs Secret (certMap in constants.go).
VCLUSTER_SECRET_KEYS = {
    "admin.conf", "controller-manager.conf", "scheduler.conf",
    "apiserver.crt", "apiserver.key", "apiserver-etcd-client.crt", "apiserver-etcd-client.key",
    "apiserver-kubelet-client.crt", "apiserver-kubelet-client.key", "ca.crt", "ca.key",
    "front-proxy-ca.crt", "front-proxy-ca.key", "front-proxy-client.crt", "front-proxy-client.key",
    "sa.key", "sa.pub", "etcd-ca.crt", "etcd-ca.key", "etcd-healthcheck-client.crt", "etcd-healthcheck-client.key",
    "etcd-peer.crt", "etcd-peer.key", "etcd-server.crt", "etcd-server.key",
}


@pytest.fixture(scope="module")
def bundle():
    return bundles.generate_bundle(PARAMS, NOW)


@pytest.fixture(scope="module")
def data(bundle):
    return bundles.secret_data(bundle)


def test_secret_holds_exactly_vclusters_entries_as_pem_text(data):
    assert set(data) == VCLUSTER_SECRET_KEYS
    assert data["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")
    assert data["etcd-server.key"].startswith("-----BEGIN EC PRIVATE KEY-----")
    assert data["sa.pub"].startswith("-----BEGIN PUBLIC KEY-----")


def test_apiserver_sans_cover_kubernetes_service_host_service_forms_and_extras(bundle):
    dns, ips = certs.subject_alt_names(bundle.leaves["apiserver"].cert)
    assert {"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local",
            "demo", "demo.vc-demo", "demo.vc-demo.svc", "demo.vc-demo.svc.cluster.local", "localhost",
            "api.example.com"} == set(dns)
    assert {"10.100.0.1", "127.0.0.1", "192.0.2.10"} == set(ips)


def test_etcd_certificates_name_loopback_and_every_member_pod(bundle):
    for name in ("etcd-server", "etcd-peer"):
        dns, ips = certs.subject_alt_names(bundle.leaves[name].cert)
        assert "localhost" in dns and {"127.0.0.1", "::1"} == set(ips)
        for index in range(layout.ETCD_SAN_MEMBERS):
            assert f"demo-{index}.demo-headless.vc-demo.svc" in dns
            assert f"demo-{index}.demo-headless.vc-demo.svc.cluster.local" in dns


@pytest.mark.parametrize("leaf,ca,usages", [
    ("apiserver", "ca", {certs.SERVER}),
    ("apiserver-kubelet-client", "ca", {certs.CLIENT}),
    ("front-proxy-client", "front-proxy-ca", {certs.CLIENT}),
    ("etcd-server", "etcd-ca", {certs.SERVER, certs.CLIENT}),
    ("etcd-peer", "etcd-ca", {certs.SERVER, certs.CLIENT}),
    ("etcd-healthcheck-client", "etcd-ca", {certs.CLIENT}),
    ("apiserver-etcd-client", "etcd-ca", {certs.CLIENT}),
    ("admin", "ca", {certs.CLIENT}),
    ("controller-manager", "ca", {certs.CLIENT}),
    ("scheduler", "ca", {certs.CLIENT}),
])
def test_each_leaf_chains_to_its_own_ca_only_with_its_usages(bundle, leaf, ca, usages):
    cert = bundle.leaves[leaf].cert
    cert.verify_directly_issued_by(bundle.cas[ca].cert)
    for other in set(bundle.cas) - {ca}:
        assert not certs.is_signed_by(cert, bundle.cas[other].cert)
    assert certs.extended_usages(cert) == usages


def test_three_distinct_cas_with_kubeadm_common_names(bundle):
    names = {name: ca.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
             for name, ca in bundle.cas.items()}
    assert names == {"ca": "kubernetes", "front-proxy-ca": "front-proxy-ca", "etcd-ca": "etcd-ca"}
    assert len({keys.public_key_pem(ca.key) for ca in bundle.cas.values()}) == 3


def test_component_kubeconfigs_point_at_the_pod_loopback_as_their_user(data, bundle):
    expected_users = {"admin.conf": ("kubernetes-admin", ("system:masters",)),
                      "controller-manager.conf": ("system:kube-controller-manager", ()),
                      "scheduler.conf": ("system:kube-scheduler", ())}
    for entry, (user, groups) in expected_users.items():
        found = kubeconfig.credentials(kubeconfig.load_kubeconfig(data[entry]))
        assert found.server == "https://127.0.0.1:6443"
        assert found.ca_pem == data["ca.crt"]
        spec = certs.describe(certs.load_cert(found.client_cert_pem, entry))
        assert (spec.common_name, spec.organizations) == (user, groups)


def test_service_account_public_key_is_the_private_keys_half(data):
    private = keys.load_private_key(data["sa.key"], "sa.key")
    assert keys.public_key_pem(private) == data["sa.pub"]


def test_flat_map_reads_back_to_the_same_flat_map(data):
    loaded = bundles.load_bundle(data, PARAMS)
    assert bundles.secret_data(loaded) == data
    assert loaded.unreadable == ()


def test_bytes_values_as_the_kubernetes_client_returns_them_are_accepted(data):
    as_bytes = {key: value.encode() for key, value in data.items()}
    assert bundles.secret_data(bundles.load_bundle(as_bytes, PARAMS)) == data


def test_vc_secret_has_vclusters_keys_consistent_with_its_kubeconfig(bundle, data):
    vc = bundles.vcluster_kubeconfig_data(bundle, "https://203.0.113.7:443", "gpve_demo")
    assert set(vc) == {"config", "certificate-authority", "client-certificate", "client-key"}
    found = kubeconfig.credentials(kubeconfig.load_kubeconfig(vc["config"]))
    assert (found.context, found.server) == ("gpve_demo", "https://203.0.113.7:443")
    assert found.ca_pem == vc["certificate-authority"] == data["ca.crt"]
    assert found.client_cert_pem == vc["client-certificate"]
    assert found.client_key_pem == vc["client-key"]
    assert certs.describe(certs.load_cert(vc["client-certificate"], "x")).organizations == ("system:masters",)


def test_a_missing_or_broken_ca_stops_loading_and_never_shows_key_material(data):
    without_key = {k: v for k, v in data.items() if k != "etcd-ca.key"}
    with pytest.raises(PkiError, match="etcd-ca.crt and etcd-ca.key must both be present"):
        bundles.load_bundle(without_key, PARAMS)
    swapped = dict(data, **{"ca.key": data["front-proxy-ca.key"]})
    with pytest.raises(PkiError, match="ca.key does not belong to ca.crt") as raised:
        bundles.load_bundle(swapped, PARAMS)
    assert data["front-proxy-ca.key"].splitlines()[1] not in str(raised.value)
    not_a_ca = dict(data, **{"ca.crt": data["apiserver.crt"], "ca.key": data["apiserver.key"]})
    with pytest.raises(PkiError, match="ca.crt is not a CA certificate"):
        bundles.load_bundle(not_a_ca, PARAMS)


def test_printing_a_bundle_names_its_parts_only(bundle, data):
    text = repr(bundle)
    assert "apiserver" in text and "BEGIN" not in text
    assert data["ca.key"].splitlines()[1] not in text


@pytest.mark.parametrize("changes,field", [
    ({"extra_sans": ("not a host",)}, "extra_sans"),
    ({"extra_sans": ("a.*.example.com",)}, "extra_sans"),
    ({"service_cidr": "10.96.0.1/12"}, "networking.service_cidr"),
    ({"service_cidr": "10.96.0.0/31"}, "networking.service_cidr"),
    ({"algorithm": "ed25519"}, "pki.algorithm"),
    ({"leaf_validity": datetime.timedelta(days=4000)}, "pki.validity"),
])
def test_invalid_parameters_are_refused_before_any_key_is_made(changes, field):
    params = layout.PkiParams(name="demo", namespace="vc-demo", **changes)
    with pytest.raises(ValidationError) as raised:
        bundles.generate_bundle(params, NOW)
    assert raised.value.field == field


def test_wildcard_and_ipv6_extras_are_accepted():
    params = layout.PkiParams(name="demo", namespace="vc-demo", extra_sans=("*.apps.example.com", "2001:db8::1"))
    dns, ips = layout.apiserver_sans(params)
    assert "*.apps.example.com" in dns
    assert ipaddress.ip_address("2001:db8::1") in {ipaddress.ip_address(ip) for ip in ips}
