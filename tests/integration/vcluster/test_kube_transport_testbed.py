"""kube.connect's transport against the testbed's API server: TLS verified, CA override, verification off."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeApiError, KubeConnectionError
from ansible_collections.gpve.cluster.plugins.module_utils.kube.resources import Resources
from ansible_collections.gpve.cluster.plugins.module_utils.kube.transport import Transport
from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs

pytestmark = pytest.mark.vcluster


@pytest.fixture
def stranger_ca(tmp_path):
    ca = certs.new_ca("stranger", datetime.datetime.now(datetime.timezone.utc), datetime.timedelta(days=1))
    path = tmp_path / "stranger.crt"
    path.write_text(certs.cert_pem(ca.cert))
    return str(path)


def test_the_testbed_kubeconfig_goes_through_the_light_transport(testbed):
    client = connect(host_kubeconfig=testbed.kubeconfig)
    try:
        assert isinstance(client, Transport)
        resources = Resources(client)
        assert resources.get("Namespace", "default")["metadata"]["name"] == "default"
        assert resources.get("Namespace", "no-such-namespace") is None
        with pytest.raises(KubeApiError) as invalid:
            resources.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "Not_Valid"}}, dry_run=True)
        assert invalid.value.status == 422 and invalid.value.reason == "Invalid"
    finally:
        client.close()


def test_a_ca_that_did_not_sign_the_server_is_refused_unless_verification_is_off(testbed, stranger_ca):
    strict = Resources(connect(host_kubeconfig=testbed.kubeconfig, ca_cert=stranger_ca))
    with pytest.raises(KubeConnectionError, match=r"^Namespace default: .*CERTIFICATE_VERIFY_FAILED"):
        strict.get("Namespace", "default")
    relaxed = Resources(connect(host_kubeconfig=testbed.kubeconfig, ca_cert=stranger_ca, validate_certs=False))
    assert relaxed.get("Namespace", "default") is not None
