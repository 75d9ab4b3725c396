"""bench/vcluster.py runs once at its tiny size on the session's testbed, so it does not rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

BENCH = Path(__file__).resolve().parents[3] / "bench" / "vcluster.py"


def test_vcluster_benchmark_runs_at_tiny_size(testbed):
    env = dict(os.environ, GPVE_BENCH_SIZE="tiny", GPVE_TESTBED_ENV=testbed.env()["GPVE_TESTBED_ENV"],
               PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    result = subprocess.run([sys.executable, str(BENCH)], capture_output=True, text=True, env=env, timeout=900,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"ratio=\d+\.\d+", lines[-1]), result.stdout
    assert any(line.startswith("play: 4 vClusters with 2 forks") and "all Running" in line for line in lines)
    assert any("left behind: 0 namespaces, 0 cluster roles, 0 live registry entries" in line for line in lines)
