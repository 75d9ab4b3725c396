"""bench/vcluster.py runs once at its tiny size on the session's testbeds, so it does not rot: the scale run on the
stand-in testbed (4 vClusters, 2 forks), the real run with one vCluster on the real testbed's node and its floor."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

BENCH = Path(__file__).resolve().parents[3] / "bench" / "vcluster.py"


def test_vcluster_benchmark_runs_at_tiny_size(testbed, real_testbed):
    env = dict(os.environ, GPVE_BENCH_SIZE="tiny", GPVE_BENCH_STANDIN_ENV=testbed.env()["GPVE_TESTBED_ENV"],
               GPVE_TESTBED_ENV=real_testbed.env()["GPVE_TESTBED_ENV"],
               PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    result = subprocess.run([sys.executable, str(BENCH)], capture_output=True, text=True, env=env, timeout=1500,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"ratio=\d+\.\d+", lines[-1]), result.stdout
    assert re.fullmatch(r"real_ratio=\d+\.\d+", lines[-2]), result.stdout
    assert any(line.startswith("play: 4 vClusters with 2 forks on stand-in nodes") and "all Running" in line
               for line in lines)
    assert any("left behind: 0 namespaces, 0 cluster roles, 0 live registry entries" in line for line in lines)
    assert any(line.startswith("real: 1 vClusters on real nodes by one play") for line in lines), result.stdout
    assert any(line.startswith("real floor: the same objects by kubectl") for line in lines), result.stdout
    assert not [name for name in namespaces(real_testbed) if name.startswith("vc-bench-")], "the real run left namespaces"


def namespaces(testbed):
    kubectl = Path(testbed.record["kube"]["bin_dir"]) / "kubectl"
    listed = subprocess.run([str(kubectl), "--kubeconfig", testbed.kubeconfig, "get", "namespaces", "-o", "name"],
                            capture_output=True, text=True, check=True).stdout
    return [line.split("/", 1)[1] for line in listed.split()]
