"""Every third-party library a module can import (itself or through the module_utils it reaches, lazy imports
included) is in its documented requirements (DOCUMENTATION and its doc fragments), and nothing else is."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.ecosystem

REPO = Path(__file__).resolve().parents[4]
PREFIX = "ansible_collections.gpve.cluster."
# Import name -> the requirement that provides it. PyYAML is left out: ansible-core itself requires it.
PROVIDERS = {"cryptography": "cryptography", "kubernetes": "kubernetes",
             "proxmoxer": "proxmoxer", "requests": "requests", "psycopg": "psycopg", "boto3": "boto3",
             "botocore": "boto3"}
# urllib3 is the HTTP library of the kubernetes client (kube/transport.py uses it directly) and of requests (the
# Proxmox client mounts urllib3's Retry on its session): either requirement brings it; kubernetes when neither is
# otherwise needed.
BROUGHT_BY_EITHER = {"urllib3": ("kubernetes", "requests")}
ANSIBLE_CORE_BRINGS = ("yaml", "jinja2", "packaging", "resolvelib")
STDLIB = frozenset(__import__("sys").stdlib_module_names)


def _source_of(module_name):
    relative = module_name[len(PREFIX):].replace(".", "/")
    for candidate in (REPO / f"{relative}.py", REPO / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def reached_libraries(path, seen=None):
    """Top-level names of the non-Ansible, non-stdlib imports path reaches through gpve.cluster imports."""
    seen = set() if seen is None else seen
    if path in seen:
        return set()
    seen.add(path)
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if name.startswith(PREFIX):
                source = _source_of(name)
                found |= reached_libraries(source, seen) if source else set()
            elif top not in STDLIB and top not in ("ansible", "ansible_collections", "__future__"):
                found.add(top)
    return found


@pytest.fixture(scope="module")
def documented_requirements():
    """{module: [requirements]} as ansible-doc shows them (fragments merged)."""
    names = [f"gpve.cluster.{path.stem}" for path in sorted((REPO / "plugins" / "modules").glob("*.py"))]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"))
    out = subprocess.run([str(REPO / ".venv" / "bin" / "ansible-doc"), "--json", "-t", "module"] + names, env=env,
                         capture_output=True, text=True, check=True).stdout
    return {name.split(".")[-1]: data["doc"].get("requirements") or [] for name, data in json.loads(out).items()}


MODULES = sorted(path.stem for path in (REPO / "plugins" / "modules").glob("*.py"))


@pytest.mark.parametrize("module", MODULES)
def test_documented_requirements_match_the_libraries_the_module_reaches(module, documented_requirements):
    reached = reached_libraries(REPO / "plugins" / "modules" / f"{module}.py")
    unknown = reached - set(PROVIDERS) - set(BROUGHT_BY_EITHER) - set(ANSIBLE_CORE_BRINGS)
    assert not unknown, f"{module} imports {sorted(unknown)}: add them to PROVIDERS and to the module's requirements"
    needed = {PROVIDERS[name] for name in reached if name in PROVIDERS}
    for name, providers in BROUGHT_BY_EITHER.items():
        if name in reached and not needed & set(providers):
            needed.add(providers[0])
    words = {re.split(r"[\s<>=(]", entry.strip(), maxsplit=1)[0].lower() for entry in documented_requirements[module]}
    documented = words & (set(PROVIDERS.values()) | {p for ps in BROUGHT_BY_EITHER.values() for p in ps})
    assert needed <= documented, f"{module}: requirements miss {sorted(needed - documented)}"
    assert documented <= needed, f"{module}: requirements list {sorted(documented - needed)}, which it never imports"
