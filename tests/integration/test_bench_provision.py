"""bench/provision.py runs once at its tiny size (its own fakepve, both playbooks, the figures), so it does not rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench" / "provision.py"


def test_provision_benchmark_runs_at_tiny_size():
    env = dict(os.environ, GPVE_BENCH_SIZE="tiny")
    done = subprocess.run([sys.executable, str(BENCH)], capture_output=True, text=True, env=env, cwd=str(REPO),
                          timeout=900, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert re.search(r"^one VM, gpve_k8s_vm \(its critical path\): +[0-9.]+s$", done.stdout, re.M), done.stdout
    assert re.search(r"^2 VMs, gpve_k8s_vm: +[0-9.]+s += [0-9.]+x one VM's critical path", done.stdout, re.M), done.stdout
    assert re.search(r"^2 VMs, proxmox_kvm one after another: +[0-9.]+s +-> ours is", done.stdout, re.M), done.stdout
    assert re.fullmatch(r"ratio=[0-9]+\.[0-9]{2}", lines[-1]), lines[-1]
    assert float(lines[-1].split("=", 1)[1]) > 0
