"""Every module has its docs page, docs/<module>.md, and the playbook docs name playbooks as users run them (FQCN)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.ecosystem

REPO = Path(__file__).resolve().parents[4]
MODULES = sorted(path.stem for path in (REPO / "plugins" / "modules").glob("*.py"))
PLAYBOOKS = sorted(path for path in (REPO / "playbooks").glob("*/*.yml"))


@pytest.mark.parametrize("module", MODULES)
def test_every_module_has_its_docs_page(module):
    page = REPO / "docs" / f"{module}.md"
    assert page.is_file(), f"docs/{module}.md is missing"
    assert page.read_text().splitlines()[0].split(" — ")[0] == f"# gpve.cluster.{module}"


def test_the_playbook_docs_name_every_k8s_vm_playbook_by_fqcn():
    text = (REPO / "docs" / "playbooks.md").read_text()
    for path in PLAYBOOKS:
        if path.parent.name == "k8s_vm":
            assert f"gpve.cluster.k8s_vm.{path.stem}" in text, path
    assert not re.search(r"ansible-playbook [^\n]*playbooks/", text)


def test_no_user_doc_runs_a_playbook_by_its_repository_path():
    for page in [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md")):
        assert not re.search(r"ansible-playbook [^\n`]*playbooks/\w+/\w+\.yml", page.read_text()), page
