"""The molecule scenarios (molecule/), run offline: node_prep in a scratch root, cni and addons
against the testbed's API server. Each must really converge (a first run that changes
something) and pass molecule's idempotence step (a second converge that changes nothing)."""

from __future__ import annotations

import re
import subprocess

import pytest
from roles_support import REPO

from tests.playbook_run import VENV_BIN, ansible_env

pytestmark = pytest.mark.roles

RECAP = re.compile(r"^\S+\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


def step_output(output: str, scenario: str, step: str) -> str:
    """What molecule printed for one step of the scenario (between its Executing and Executed lines)."""
    start = output.index(f"[{scenario} > {step}] Executing")
    end = output.index(f"[{scenario} > {step}] Executed: Successful", start)
    return output[start:end]


def recap(text: str) -> tuple[int, int, int, int]:
    """(ok, changed, unreachable, failed) of the last PLAY RECAP line in text."""
    found = RECAP.findall(text)
    assert found, text[-2000:]
    return tuple(int(n) for n in found[-1])


@pytest.mark.parametrize("scenario", ["node_prep", "cni", "addons"])
def test_molecule_scenario(scenario, testbed, tmp_path):
    env = ansible_env({"GPVE_TESTBED_KUBECONFIG": testbed.kubeconfig, "NO_COLOR": "1", "MOLECULE_NO_LOG": "false",
                       "HOME": str(tmp_path)})
    result = subprocess.run([str(VENV_BIN / "molecule"), "test", "-s", scenario], cwd=str(REPO), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1500, check=False)
    (tmp_path / "molecule.log").write_text(result.stdout)
    assert result.returncode == 0, result.stdout[-5000:]
    for step in ("converge", "idempotence", "verify"):
        assert f"{scenario} > {step}: Executed: Successful" in result.stdout, step
    ok, changed, unreachable, failed = recap(step_output(result.stdout, scenario, "converge"))
    assert ok > 0 and changed > 0 and unreachable == failed == 0       # the first converge did the work
    ok, changed, unreachable, failed = recap(step_output(result.stdout, scenario, "idempotence"))
    assert ok > 0 and changed == 0 and unreachable == failed == 0      # the second one found nothing to do
