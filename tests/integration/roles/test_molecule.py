"""The molecule scenarios (molecule/), run offline: node_prep in a scratch root, cni and addons
against the testbed's API server, each with its idempotence step."""

from __future__ import annotations

import subprocess

import pytest
from roles_support import REPO, VENV_BIN, ansible_env

pytestmark = pytest.mark.roles


@pytest.mark.parametrize("scenario", ["node_prep", "cni", "addons"])
def test_molecule_scenario(scenario, testbed, tmp_path):
    env = ansible_env({"GPVE_TESTBED_KUBECONFIG": testbed.kubeconfig, "NO_COLOR": "1", "MOLECULE_NO_LOG": "false",
                       "HOME": str(tmp_path)})
    result = subprocess.run([str(VENV_BIN / "molecule"), "test", "-s", scenario], cwd=str(REPO), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1500, check=False)
    (tmp_path / "molecule.log").write_text(result.stdout)
    assert result.returncode == 0, result.stdout[-5000:]
    assert "idempotence" in result.stdout and "failed=0" in result.stdout.split("SCENARIO RECAP")[-1]
