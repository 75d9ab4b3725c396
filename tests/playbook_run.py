"""Running ansible-playbook as a user does, from tests: this collection, this venv, no user config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO / ".build" / "collections"
VENV_BIN = Path(sys.executable).parent


def ansible_env(extra: dict | None = None, tmp_path: Path | None = None) -> dict:
    """The environment of an Ansible child (ansible-playbook, ansible-inventory, ansible, a module run): this
    collection, this venv, no user config, no GPVE_* or ANSIBLE_* leaking in.

    With tmp_path the child is one of tests/as_a_user's runs on this machine: its own ansible.cfg, temporary and
    home directories under tmp_path, this Python as the interpreter, and an inventory source that does not parse
    is an error rather than a warning.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GPVE_", "ANSIBLE_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               # Every VM of the largest test cluster (3 control planes, LB, 3 workers) in one round per task: with
               # Ansible's default of 5 forks, the sixth and seventh hosts' steps wait for the first five's.
               ANSIBLE_FORKS="10",
               PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}")
    if tmp_path is not None:
        config = Path(tmp_path) / "ansible.cfg"
        if not config.exists():
            config.write_text("[defaults]\n")
        env.update(ANSIBLE_CONFIG=str(config), ANSIBLE_LOCAL_TEMP=str(Path(tmp_path) / "tmp"),
                   ANSIBLE_HOME=str(Path(tmp_path) / "ansible-home"), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                   ANSIBLE_INVENTORY_UNPARSED_FAILED="1", PYTHONPATH=str(COLLECTIONS))
    env.update({key: str(value) for key, value in (extra or {}).items()})
    return env


def start_playbook(playbook: Path, extra_vars: dict, env: dict, log: Path, check: bool = False) -> subprocess.Popen:
    """ansible-playbook started with extra vars from a 0600 file, its output going to log as it runs."""
    vars_file = log.with_suffix(".vars.json")
    vars_file.write_text(json.dumps(extra_vars))
    os.chmod(vars_file, 0o600)
    argv = [str(VENV_BIN / "ansible-playbook"), str(playbook), "-e", f"@{vars_file}"] + (["--check"] if check else [])
    with open(log, "w", encoding="utf-8") as output:     # the child keeps its own copy of the file descriptor
        return subprocess.Popen(argv, env=env, cwd=str(log.parent), stdout=output, stderr=subprocess.STDOUT, text=True)


def finish_playbook(process: subprocess.Popen, log: Path, timeout: int = 1500) -> subprocess.CompletedProcess:
    """Wait for a started playbook (killed after timeout); its output is the log's."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout=log.read_text())


def run_playbook(playbook: Path, extra_vars: dict, env: dict, log: Path, check: bool = False,
                 timeout: int = 1500) -> subprocess.CompletedProcess:
    """ansible-playbook with extra vars from a 0600 file; its output goes to log (tail it to follow a long run)."""
    return finish_playbook(start_playbook(playbook, extra_vars, env, log, check), log, timeout)
