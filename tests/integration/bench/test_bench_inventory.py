"""bench/inventory.py runs end to end at the tiny size: floor, plugin and community.proxmox over fakepve, and a ratio."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

REPO = Path(__file__).resolve().parents[3]


def test_inventory_benchmark_tiny():
    env = dict(os.environ, GPVE_BENCH_SIZE="tiny")
    done = subprocess.run([sys.executable, str(REPO / "bench" / "inventory.py")], capture_output=True, text=True,
                          timeout=900, env=env, cwd=str(REPO), check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert "same hosts, groups and variables as the floor: yes" in done.stdout
    assert re.search(r"ours by phase .*: start-up=[0-9.]+ plugin parse=[0-9.]+ Ansible per-host vars=[0-9.]+ "
                     r"Ansible JSON output=[0-9.]+ total=[0-9.]+", done.stdout), done.stdout
    assert re.search(r"community\.proxmox \(want_facts, 100 VMs\): [0-9.]+s", done.stdout), done.stdout
    assert re.fullmatch(r"ratio=[0-9]+\.[0-9]{3}", lines[-1]), lines[-1]
