"""bench/registry.py runs once at its tiny size, so it does not rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

BENCH = Path(__file__).resolve().parents[2] / "bench" / "registry.py"


def test_registry_benchmark_runs_at_tiny_size(pg_dsn):
    env = dict(os.environ, GPVE_BENCH_SIZE="tiny", GPVE_BENCH_PG_DSN=pg_dsn,
               PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    result = subprocess.run([sys.executable, str(BENCH)], capture_output=True, text=True, env=env, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"ratio=\d+\.\d+", lines[-1]), result.stdout
    for backend in ("sqlite", "postgresql"):
        assert any(line.startswith(f"[{backend}] label query") for line in lines), result.stdout
