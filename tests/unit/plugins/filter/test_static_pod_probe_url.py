"""The wait for a restored API server: where its static pod manifest's probe points (as kubeadm wrote it)."""

from __future__ import annotations

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.gpve.cluster.plugins.filter.static_pod_probe_url import FilterModule

pytestmark = pytest.mark.k8s_vm

probe_url = FilterModule().filters()["static_pod_probe_url"]


def apiserver(host="10.0.0.11", port="probe-port", ports=(("probe-port", 6443),), scheme="HTTPS"):
    """kube-apiserver.yaml as kubeadm 1.37 writes it: the probes' port named after one of the container's ports."""
    http_get = {"path": "/livez", "port": port, "scheme": scheme}
    if host is not None:
        http_get["host"] = host
    container = {"name": "kube-apiserver", "image": "registry.k8s.io/kube-apiserver:v1.37.2",
                 "command": ["kube-apiserver", f"--advertise-address={host}", "--secure-port=6443"],
                 "livenessProbe": {"httpGet": http_get, "failureThreshold": 8},
                 "readinessProbe": {"httpGet": {**http_get, "path": "/readyz"}},
                 "ports": [{"containerPort": number, "name": name, "protocol": "TCP"} for name, number in ports]}
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "kube-apiserver", "namespace": "kube-system"},
                           "spec": {"hostNetwork": True, "containers": [container]}})


def test_a_named_port_is_the_container_port_of_that_name_on_the_probe_host():
    manifest = apiserver(ports=(("https", 443), ("probe-port", 7443)), port="probe-port")
    assert probe_url(manifest, path="/readyz") == "https://10.0.0.11:7443/readyz"


def test_a_numeric_port_is_taken_as_it_is_and_the_probe_path_without_a_path():
    assert probe_url(apiserver(port=6443, ports=())) == "https://10.0.0.11:6443/livez"
    assert probe_url(apiserver(port="8443", ports=()), path="readyz") == "https://10.0.0.11:8443/readyz"


def test_another_probe_and_a_parsed_manifest():
    assert probe_url(yaml.safe_load(apiserver()), probe="readinessProbe") == "https://10.0.0.11:6443/readyz"


def test_no_host_is_the_default_host_and_an_ipv6_host_is_bracketed():
    assert probe_url(apiserver(host=None), path="/readyz") == "https://127.0.0.1:6443/readyz"
    assert probe_url(apiserver(host=None), path="/readyz", default_host="192.0.2.7") == "https://192.0.2.7:6443/readyz"
    assert probe_url(apiserver(host="fd00::11"), path="/readyz") == "https://[fd00::11]:6443/readyz"


def test_the_scheme_is_the_probes_http_by_default():
    assert probe_url(apiserver(scheme=None)).startswith("http://10.0.0.11:6443/")


@pytest.mark.parametrize("manifest, message", [
    (apiserver(port="probe-port", ports=(("https", 6443),)), "port 'probe-port' is no port of the container (https)"),
    (apiserver(port="probe-port", ports=()), "port 'probe-port' is no port of the container (it names none)"),
    (apiserver(port=70000, ports=()), "no TCP port (70000)"),
    (yaml.safe_dump({"kind": "Pod", "spec": {"containers": [{"name": "etcd"}]}}), "'etcd' has no livenessProbe with httpGet"),
    (yaml.safe_dump({"kind": "Pod", "spec": {}}), "no container"),
    ("- a list", "no mapping"),
    ("a: [", "no YAML"),
])
def test_a_manifest_that_does_not_say_where_its_probe_points_is_refused_by_name(manifest, message):
    with pytest.raises(AnsibleFilterError, match="static_pod_probe_url: .*" + message.replace("(", r"\(").replace(")", r"\)")):
        probe_url(manifest)
