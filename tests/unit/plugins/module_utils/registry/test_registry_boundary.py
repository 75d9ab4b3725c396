"""The registry's boundary and vocabulary hold in the source: nothing under registry/ imports events/, nothing
outside registry/ runs SQL through the store's transaction hooks, and the cluster types are spelled once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.registry

PLUGINS = Path(__file__).resolve().parents[5] / "plugins"
REGISTRY = PLUGINS / "module_utils" / "registry"


def sources(root=PLUGINS):
    return {path: path.read_text(encoding="utf-8") for path in sorted(root.rglob("*.py"))}


def test_nothing_under_registry_imports_events():
    importing = [path.name for path, text in sources(REGISTRY).items() if re.search(r"module_utils\.events\b|from \.\.events", text)]
    assert importing == []


def test_nothing_outside_registry_touches_the_transaction_hooks():
    touching = [str(path.relative_to(PLUGINS)) for path, text in sources().items()
                if REGISTRY not in path.parents and re.search(r"\bstore\._(read|write)\(|\._(read|write)\(lambda tx", text)]
    assert touching == []


def test_the_k8s_vm_cluster_type_is_spelled_in_one_python_file():
    """('vcluster' and 'external' name other things too: an app label, a load balancer type.)"""
    spelling = re.compile(r"""(['"])k8s-vm\1""")
    where = [str(path.relative_to(PLUGINS)) for path, text in sources().items() if spelling.search(text)]
    assert where == ["module_utils/registry/kinds.py"]
