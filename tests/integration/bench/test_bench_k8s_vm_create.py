"""bench/k8s_vm_create.py runs end to end at the tiny size (1 control plane + 1 worker): create.yml and the floor
script each make a real cluster on booted VMs, both timed by phase, and a ratio."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

REPO = Path(__file__).resolve().parents[3]
PHASES = ("provision", "ssh", "node_prep", "init", "join", "labels", "cni", "ready")


def test_k8s_vm_create_benchmark_tiny(testbed):
    env = dict(os.environ, GPVE_BENCH_SIZE="tiny", GPVE_TESTBED_ENV=str(testbed.layout.env_file))
    done = subprocess.run([sys.executable, str(REPO / "bench" / "k8s_vm_create.py")], capture_output=True, text=True,
                          timeout=2400, env=env, cwd=str(REPO), check=False)
    assert done.returncode == 0, done.stdout + done.stderr[-12000:]
    out = done.stdout
    print(out)
    assert "1 control plane + 1 workers" in out
    for name in PHASES:
        assert re.search(rf"^{name} +[0-9.]+s +[0-9.]+s$", out, re.M), (name, out)
    assert re.search(r"^total +[0-9.]+s +[0-9.]+s ", out, re.M), out
    assert re.search(r"^ +[0-9.]+s  \S", out, re.M), out     # the slowest tasks
    assert re.fullmatch(r"ratio=[0-9]+\.[0-9]{3}", out.strip().splitlines()[-1]), out
