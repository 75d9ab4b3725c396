"""playbooks/external/import.yml with ansible-playbook: the testbed cluster imported, the registry printed as a table."""

from __future__ import annotations

import re

import pytest

from tests.as_a_user import ansible_cli

pytestmark = pytest.mark.external


def test_import_playbook_prints_the_registry_as_a_table(testbed, tmp_path):
    registry = tmp_path / "registry.db"
    done = ansible_cli.run(["ansible-playbook", str(ansible_cli.REPO / "playbooks" / "external" / "import.yml"),
                            "-i", "localhost,", "-e", "cluster_name=lab"], tmp_path,
                           GPVE_REGISTRY=str(registry), GPVE_TESTBED_KUBECONFIG=testbed.kubeconfig)
    assert re.search(r"NAME\s+TYPE\s+PHASE\s+VERSION\s+ENDPOINT\s+NODES\s+HEALTH\s+PODS", done.stdout), done.stdout
    nodes = len(testbed.node_names)
    assert re.search(rf"lab\s+external\s+Running\s+{re.escape(testbed.k8s_version)}\s+{re.escape(testbed.api_url)}\s+{nodes}/{nodes}\s+healthy\s+\d+",
                     done.stdout), done.stdout
    assert "failed=0" in done.stdout
    again = ansible_cli.run(["ansible-playbook", str(ansible_cli.REPO / "playbooks" / "external" / "import.yml"),
                             "-i", "localhost,", "-e", "cluster_name=lab"], tmp_path,
                            GPVE_REGISTRY=str(registry), GPVE_TESTBED_KUBECONFIG=testbed.kubeconfig)
    assert re.search(r"TASK \[Import the cluster[^\n]*\n(ok|\x1b)", again.stdout), "the import is idempotent"
