"""Running Ansible as a user does: ansible-inventory / ansible / ansible-playbook subprocesses, and modules
run as Ansible runs them (a Python process fed a JSON args file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.playbook_run import COLLECTIONS, REPO, ansible_env

__all__ = ["REPO", "ansible_env", "inventory_list", "run", "run_module", "unwrap"]

BIN = Path(sys.executable).parent
MODULES = COLLECTIONS / "ansible_collections" / "gpve" / "cluster" / "plugins" / "modules"


def run(argv, tmp_path, check=True, timeout=600, **env):
    done = subprocess.run([str(BIN / argv[0])] + list(argv[1:]), capture_output=True, text=True, timeout=timeout,
                          check=False, env=ansible_env(env, tmp_path), cwd=str(tmp_path))
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def inventory_list(source, tmp_path, *extra, **env):
    """ansible-inventory --list as data; every __ansible_unsafe wrapper unwrapped, marked in the set returned."""
    done = run(["ansible-inventory", "-i", str(source), "--list", *extra], tmp_path, **env)
    unsafe_paths = set()
    return unwrap(json.loads(done.stdout), (), unsafe_paths), unsafe_paths


def unwrap(value, path, unsafe_paths):
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            unsafe_paths.add(path)
            return value["__ansible_unsafe"]
        return {key: unwrap(item, path + (key,), unsafe_paths) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item, path + (index,), unsafe_paths) for index, item in enumerate(value)]
    return value


def run_module(name, args, tmp_path, check_mode=False, diff=False, env=None):
    """Run plugins/modules/<name>.py with args as Ansible would; returns its JSON answer."""
    path = Path(tmp_path) / f"args-{name}-{os.getpid()}-{len(list(Path(tmp_path).glob('args-*')))}.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)}))
    os.chmod(path, 0o600)
    environ = {key: value for key, value in os.environ.items() if not key.startswith("GPVE_")}
    environ.update(PYTHONPATH=str(COLLECTIONS), **(env or {}))
    done = subprocess.run([sys.executable, str(MODULES / f"{name}.py"), str(path)], capture_output=True, text=True,
                          timeout=600, env=environ, cwd=str(tmp_path), check=False)
    path.unlink()
    try:
        return json.loads(done.stdout)
    except ValueError:
        raise AssertionError(f"{name} printed no JSON (rc {done.returncode}): {done.stdout}\n{done.stderr}") from None
