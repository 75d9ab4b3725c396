"""Helpers of the backup tests: a registry holding the testbed as a cluster, workloads, archives, moto."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

from kubernetes import client
from kubernetes.client.rest import ApiException

from ansible_collections.gpve.cluster.plugins.module_utils.backup.filters import Filters
from ansible_collections.gpve.cluster.plugins.module_utils.backup.request import BackupRequest
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.testbed.processes import wait_until

REPO = Path(__file__).resolve().parents[3]
COLLECTIONS = REPO / ".build" / "collections"
MODULE = COLLECTIONS / "ansible_collections" / "gpve" / "cluster" / "plugins" / "modules" / "gpve_cluster_backup.py"
KEY = base64.b64encode(b"k" * 32).decode()


def register_testbed(registry_path, testbed, name=None):
    """A registry with the testbed registered as an external cluster whose admin kubeconfig is its credential.

    What gpve_external_cluster stores once it exists: the spec's endpoint and the kubeconfig credential.
    """
    store = open_registry(registry_path, encryption_key=KEY, actor="backup-tests", environ={})
    cluster = store.create_cluster(name or f"testbed-{uuid.uuid4().hex[:8]}", "external",
                                   spec={"endpoint": testbed.api_url})
    store.put_credential(cluster.id, "kubeconfig", Path(testbed.kubeconfig).read_text())
    return store, cluster


def request(state="present", **kwargs):
    filters = Filters(**{key: kwargs.pop(key) for key in list(kwargs) if key in Filters.__dataclass_fields__})
    return BackupRequest(state=state, filters=filters, **kwargs)


def local_storage(path):
    return {"type": "local", "path": str(path)}


# Workload A -----------------------------------------------------------------------------

def crd_body(group):
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object", "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}]},
    }


class Workload:
    """Deployment, Service, ConfigMap, Secret, a CRD and one custom object, named after a prefix."""

    def __init__(self, api, namespace, prefix, group):
        self.api = api
        self.namespace = namespace
        self.prefix = prefix
        self.group = group
        self.secret_value = f"plaintext-{uuid.uuid4().hex}"

    @property
    def names(self):
        return {kind: f"{self.prefix}-{kind}" for kind in ("deploy", "svc", "config", "secret", "widget")}

    def create(self, with_crd=True):
        core, apps = client.CoreV1Api(self.api), client.AppsV1Api(self.api)
        names, labels = self.names, {"app": self.prefix}
        if with_crd:
            create_crd(self.api, self.group)
        apps.create_namespaced_deployment(self.namespace, {
            "metadata": {"name": names["deploy"], "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.25",
                                                           "env": [{"name": "MODE", "value": self.prefix}]}]}}}})
        core.create_namespaced_service(self.namespace, {
            "metadata": {"name": names["svc"], "labels": labels},
            "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}})
        core.create_namespaced_config_map(self.namespace, {"metadata": {"name": names["config"]},
                                                           "data": {"mode": self.prefix, "level": "3"}})
        core.create_namespaced_secret(self.namespace, {"metadata": {"name": names["secret"]},
                                                       "stringData": {"password": self.secret_value}})
        client.CustomObjectsApi(self.api).create_namespaced_custom_object(self.group, "v1", self.namespace, "widgets", {
            "apiVersion": f"{self.group}/v1", "kind": "Widget", "metadata": {"name": names["widget"]},
            "spec": {"size": 3, "colour": "blue", "parts": [{"name": "a"}, {"name": "b"}]}})
        return self

    def read(self):
        """kind -> the live object as a dict (None when absent)."""
        core, apps = client.CoreV1Api(self.api), client.AppsV1Api(self.api)
        custom = client.CustomObjectsApi(self.api)
        names, ns = self.names, self.namespace
        readers = {
            "deploy": lambda: apps.read_namespaced_deployment(names["deploy"], ns),
            "svc": lambda: core.read_namespaced_service(names["svc"], ns),
            "config": lambda: core.read_namespaced_config_map(names["config"], ns),
            "secret": lambda: core.read_namespaced_secret(names["secret"], ns),
            "widget": lambda: custom.get_namespaced_custom_object(self.group, "v1", ns, "widgets", names["widget"]),
        }
        return {kind: _or_none(read) for kind, read in readers.items()}

    def delete(self, with_crd=True):
        core, apps = client.CoreV1Api(self.api), client.AppsV1Api(self.api)
        names, ns = self.names, self.namespace
        foreground = client.V1DeleteOptions(propagation_policy="Foreground")
        apps.delete_namespaced_deployment(names["deploy"], ns, body=foreground)
        core.delete_namespaced_service(names["svc"], ns)
        core.delete_namespaced_config_map(names["config"], ns)
        core.delete_namespaced_secret(names["secret"], ns)
        client.CustomObjectsApi(self.api).delete_namespaced_custom_object(self.group, "v1", ns, "widgets", names["widget"])
        if with_crd:
            delete_crd(self.api, self.group)
        wait_until(lambda: all(value is None for value in self.read().values()), 120, f"workload {self.prefix} gone")


def create_crd(api, group):
    extensions = client.ApiextensionsV1Api(api)
    extensions.create_custom_resource_definition(crd_body(group))
    wait_until(lambda: _established(extensions, f"widgets.{group}"), 60, f"CRD widgets.{group} established")
    custom = client.CustomObjectsApi(api)
    wait_until(lambda: custom.list_cluster_custom_object(group, "v1", "widgets") is not None, 60, "widgets served")


def delete_crd(api, group):
    extensions = client.ApiextensionsV1Api(api)
    try:
        extensions.delete_custom_resource_definition(f"widgets.{group}")
    except ApiException as error:
        if error.status != 404:
            raise
    wait_until(lambda: _or_none(lambda: extensions.read_custom_resource_definition(f"widgets.{group}")) is None,
               120, f"CRD widgets.{group} gone")


def _established(extensions, name):
    crd = extensions.read_custom_resource_definition(name)
    return any(c.type == "Established" and c.status == "True" for c in (crd.status.conditions or []))


def _or_none(read):
    try:
        found = read()
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    return found if isinstance(found, dict) else client.ApiClient().sanitize_for_serialization(found)


def unique_group():
    return f"g{uuid.uuid4().hex[:8]}.gpve.test"


# Archives ----------------------------------------------------------------------------------

def archive_members(path):
    """name -> bytes of every member of a tar.gz."""
    with tarfile.open(path, "r:gz") as tar:
        return {info.name: tar.extractfile(info).read() for info in tar if info.isfile()}


def archive_path(record):
    location = record["storage_location"] if isinstance(record, dict) else record.storage_location
    assert location.startswith("file://"), location
    return location[len("file://"):]


def flip_byte(path, offset):
    data = bytearray(Path(path).read_bytes())
    data[offset] ^= 0xFF
    Path(path).write_bytes(bytes(data))


# moto's standalone S3 server ---------------------------------------------------------------

def start_moto(port, log_path):
    """moto_server on 127.0.0.1:port (a real HTTP S3 endpoint); the Popen, ready to answer."""
    import requests

    log = open(log_path, "wb")  # pylint: disable=consider-using-with
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: requests.get(f"{url}/moto-api/", timeout=2).status_code == 200, 60, "moto server")
    return process, url


class ModuleRunner:
    """Runs plugins/modules/gpve_cluster_backup.py as Ansible runs it: a separate process fed a JSON args file."""

    def __init__(self, registry_path, tmp_path):
        self.registry_path = str(registry_path)
        self.tmp_path = Path(tmp_path)
        self.count = 0

    def run(self, check_mode=False, env=None, **args):
        self.count += 1
        path = self.tmp_path / f"args-{self.count}.json"
        module_args = dict(args, registry=self.registry_path, _ansible_check_mode=check_mode)
        path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": module_args}))
        os.chmod(path, 0o600)
        environ = {key: value for key, value in os.environ.items() if not key.startswith("GPVE_BACKUP_")}
        environ.update(PYTHONPATH=str(COLLECTIONS), GPVE_SECURITY_ENCRYPTION_KEY=KEY, **(env or {}))
        completed = subprocess.run([sys.executable, str(MODULE), str(path)], capture_output=True, env=environ,
                                   cwd=str(self.tmp_path), timeout=600, check=False)
        try:
            return json.loads(completed.stdout)
        except ValueError:
            raise AssertionError(f"module printed no JSON (rc {completed.returncode}): {completed.stdout!r} "
                                 f"{completed.stderr!r}") from None
