"""bench/kube_client.py runs end to end at a tiny size: both clients timed against a local API stand-in, and a ratio."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

REPO = Path(__file__).resolve().parents[3]


def test_kube_client_benchmark_tiny():
    # Without a testbed in the environment the bench serves GET /version itself (plain HTTP).
    env = {key: value for key, value in os.environ.items() if not key.startswith("GPVE_TESTBED")}
    done = subprocess.run([sys.executable, str(REPO / "bench" / "kube_client.py"), "--runs", "1", "--requests", "5"],
                          capture_output=True, text=True, timeout=300, env=env, cwd=str(REPO), check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert "server: local plain HTTP; runs=1" in done.stdout, done.stdout
    for kind in ("ours", "library"):
        assert re.search(rf"^{kind} +import cpu=[0-9.]+s wall=[0-9.]+s +connect cpu=[0-9.]+ms", done.stdout, re.M), done.stdout
    assert re.fullmatch(r"ratio=[0-9]+\.[0-9]{2}", lines[-1]), lines[-1]
