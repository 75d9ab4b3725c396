"""bench/backup.py runs once at its tiny size on the session's testbed, so it does not rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

BENCH = Path(__file__).resolve().parents[2] / "bench" / "backup.py"


def test_backup_benchmark_runs_at_tiny_size(testbed):
    env = dict(os.environ, GPVE_BENCH_SIZE="tiny", GPVE_TESTBED_ENV=str(testbed.layout.env_file),
               PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    result = subprocess.run([sys.executable, str(BENCH)], capture_output=True, text=True, env=env, timeout=900,
                            check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"ratio=\d+\.\d+", lines[-1]), result.stdout
    for label in ("ours backup", "kubectl get -o yaml", "ours restore", "kubectl apply"):
        assert any(line.startswith(label) and line.endswith("objects/s") for line in lines), result.stdout
