"""Fixtures of the roles and playbooks tests (marker ``roles``).

``k8s_vm_recorded`` gives a fresh working directory with its own SQLite registry, the tasks meant
for the VMs given to the guest recorder (tests/guest_recorder), the testbed's fakepve reset, the
node stand-in (tests/testbed/node_standin.py) following the recorder's record for the VMs' Nodes,
and a teardown that removes from the shared API server everything the playbooks applied there.

These tests run on the stand-in testbed (tests/testbed/testbed.py): the testbed's API server stands
in for the cluster's, and the add-ons' pods would wait forever on real nodes for images that cannot
be had here. The roles on booted VMs (kubeadm): tests/integration/k8s_vm_real.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException
from roles_support import PLAYBOOKS, TEST_PLAYBOOKS, Registry, yaml_docs

from tests import guest_recorder
from tests.playbook_run import ansible_env, run_playbook
from tests.testbed.fixtures import use_standin_testbed
from tests.testbed.node_standin import NodeStandin
from tests.testbed.processes import wait_until

globals().update(use_standin_testbed())

# Namespaces the shipped manifests create; removed after each run.
MANIFEST_NAMESPACES = ("kube-flannel", "ingress-nginx", "cert-manager", "local-path-storage", "monitoring")


@pytest.fixture(scope="session")
def rendered_manifests(tmp_path_factory, testbed):
    """Every shipped CNI and add-on manifest, rendered by the roles (render-only): {file stem: documents}."""
    out = tmp_path_factory.mktemp("manifests")
    result = run_playbook(TEST_PLAYBOOKS / "render_manifests.yml", {"render_dir": str(out)}, ansible_env(),
                          out / "render.log")
    assert result.returncode == 0, result.stdout[-3000:]
    return dict((path.stem, yaml_docs(path.read_text())) for path in sorted(out.glob("*.yaml")))


def remove_objects(api_client, documents) -> None:
    """Delete every object of documents (last first), then wait for the namespaces to go."""
    dyn = dynamic.DynamicClient(api_client)
    # Aggregated APIs and webhooks first: left behind, they would block namespace deletion and admission.
    first = ("APIService", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
    ordered = [d for d in documents if d["kind"] in first] + [d for d in reversed(documents) if d["kind"] not in first]
    for doc in ordered:
        try:
            resource = dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
            resource.delete(name=doc["metadata"]["name"], namespace=doc["metadata"].get("namespace"))
        except ApiException as exc:
            if exc.status != 404:
                raise
        except dynamic.exceptions.ResourceNotFoundError:
            continue
    core = client.CoreV1Api(api_client)

    def namespaces_gone():
        names = {ns.metadata.name for ns in core.list_namespace().items}
        return not names.intersection(MANIFEST_NAMESPACES)
    wait_until(namespaces_gone, 300, "the manifests' namespaces to be deleted")


def remove_bootstrap_tokens(api_client) -> None:
    core = client.CoreV1Api(api_client)
    for secret in core.list_namespaced_secret("kube-system", label_selector="app.kubernetes.io/managed-by=gpve.cluster").items:
        core.delete_namespaced_secret(secret.metadata.name, "kube-system")


class K8sVmRun:
    """One cluster's worth of playbook runs against the testbed, the tasks inside the VMs given to the guest recorder
    (tests/guest_recorder): they run, as far as Ansible can tell, but nothing runs; the record holds every module
    call and the kubelets started, which the node stand-in serves as Nodes."""

    def __init__(self, tmp_path: Path, testbed, pve):
        self.dir = tmp_path
        self.testbed = testbed
        self.registry_path = tmp_path / "registry.db"
        self.record = tmp_path / "recorder.jsonl"
        self.registry = Registry(self.registry_path)
        self.env = ansible_env(dict({"GPVE_REGISTRY": str(self.registry_path), "GPVE_PROXMOX_API_URL": pve.url,
                                     "GPVE_PROXMOX_API_USER": pve.user, "GPVE_PROXMOX_API_PASSWORD": pve.password,
                                     "GPVE_PROXMOX_CA_PATH": pve.ca_path},
                                    **guest_recorder.recorder_env(self.record, testbed.kubeconfig)))
        self.count = 0
        self.nodes = NodeStandin(testbed.kubeconfig).follow_record(self.record)

    def base_vars(self, name: str) -> dict:
        return dict({"gpve_cluster_name": name, "gpve_work_dir": str(self.dir / "work"), "gpve_node_wait_timeout": 120},
                    **guest_recorder.kubeconfig_servers(self.testbed.api_url))

    def play(self, playbook: str, name: str, **extra_vars):
        """Run playbooks/k8s_vm/<playbook>.yml; returns the CompletedProcess (output in <n>-<playbook>.log)."""
        self.count += 1
        log = self.dir / f"{self.count:02d}-{playbook}.log"
        return run_playbook(PLAYBOOKS / f"{playbook}.yml", dict(self.base_vars(name), **extra_vars), self.env, log)

    def records(self) -> list[dict]:
        return guest_recorder.read(self.record)


@pytest.fixture
def k8s_vm_recorded(tmp_path, testbed, pve, pve_control, kube_client, rendered_manifests):
    """A fresh K8sVmRun, fakepve reset, and the shared API server cleaned up after it."""
    pve_control.reset()
    run = K8sVmRun(tmp_path, testbed, pve)
    run.nodes.start()
    try:
        yield run
    finally:
        # The objects go while the stand-in still serves their pods' Nodes: it finishes each pod's deletion at once.
        # A pod left on a deleted Node waits for the pod garbage collector's quarantine (about a minute).
        everything = [doc for docs in rendered_manifests.values() for doc in docs]
        remove_objects(kube_client, everything)
        remove_bootstrap_tokens(kube_client)
        run.nodes.stop(delete_nodes=True)
        pve_control.reset()
        shutil.rmtree(tmp_path / "work", ignore_errors=True)
