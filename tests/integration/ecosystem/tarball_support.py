"""The collection as users get it: the tarball ``ansible-galaxy collection build`` makes, installed into an empty
collections path. Shared by the tarball, execution environment and AWX job tests (a session builds it once)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
BIN = REPO / ".venv" / "bin"
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text())
TARBALL_NAME = f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"


def clean_env(**extra):
    """The environment without this checkout's collections path: only what a test installs is found."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS")}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", ANSIBLE_NOCOLOR="1", **extra)
    return env


def run(command, env=None, cwd=None, timeout=600):
    finished = subprocess.run([str(part) for part in command], capture_output=True, text=True, env=env or clean_env(),
                              cwd=cwd, timeout=timeout, check=False)
    assert finished.returncode == 0, f"{' '.join(map(str, command))} failed ({finished.returncode}):\n" \
                                     f"{finished.stdout[-3000:]}\n{finished.stderr[-3000:]}"
    return finished.stdout


def build(output_dir):
    """Build the tarball from this checkout into output_dir; its path."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    run([BIN / "ansible-galaxy", "collection", "build", "--force", "--output-path", output_dir, REPO])
    return output_dir / TARBALL_NAME


def install(tarball, collections_dir):
    """Install the tarball into collections_dir (no dependencies: no Galaxy server here); the collection's path."""
    collections_dir = Path(collections_dir)
    run([BIN / "ansible-galaxy", "collection", "install", "--no-deps", "--force", "-p", collections_dir, tarball],
        env=clean_env(ANSIBLE_COLLECTIONS_PATH=str(collections_dir)))
    return collections_dir / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
