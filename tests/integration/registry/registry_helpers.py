"""Helpers shared by the registry tests (fixtures are in conftest.py)."""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

WORKER = Path(__file__).with_name("registry_worker.py")


def new_key() -> str:
    """A fresh base64 encryption key."""
    return base64.b64encode(os.urandom(32)).decode()


def k8s_spec(**extra):
    spec = {"distribution": "kubeadm", "kubernetes_version": "1.37.2",
            "control_plane": {"count": 3, "cores": 2}, "workers": [{"name": "general", "count": 2}]}
    spec.update(extra)
    return spec


def worker_env() -> dict:
    """Environment for worker subprocesses: our import path, no inherited registry settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GPVE_")}
    env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
    return env
