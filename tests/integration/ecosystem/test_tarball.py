"""The tarball is the product: built from this checkout, installed into an empty collections path, it holds no test
harness, documents every plugin and runs a module from there."""

from __future__ import annotations

import json
import tarfile

import pytest
import tarball_support as tarball

pytestmark = pytest.mark.ecosystem

LEFT_OUT = ("tests/", "molecule/", "bench/", ".build/", ".venv/", ".testbed/", ".pytest_cache/", "inventories/demo/")
LEFT_OUT_FILES = ("Makefile", "pytest.ini", "requirements-dev.txt", "requirements-lock.txt", ".ansible-lint")


def test_the_tarball_holds_no_test_harness_nor_caches(built_collection):
    with tarfile.open(built_collection.tarball) as archive:
        names = archive.getnames()
    assert not [name for name in names if name.startswith(LEFT_OUT) or name in LEFT_OUT_FILES]
    assert not [name for name in names if "__pycache__" in name or name.endswith((".pyc", ".tar.gz"))]
    for needed in ("plugins/modules/gpve_k8s_vm.py", "plugins/inventory/gpve.py", "roles/kubeadm/tasks/main.yml",
                   "playbooks/k8s_vm/create.yml", "meta/runtime.yml", "meta/execution-environment.yml",
                   "requirements.txt", "bindep.txt", "docs/credentials.md"):
        assert needed in names, needed
    assert len(names) < 700, len(names)


def plugins_of(path):
    """Every plugin of the installed collection as (type, FQCN), from its files."""
    found = []
    for kind in ("modules", "inventory", "lookup", "filter", "test", "action", "callback", "connection"):
        for source in sorted((path / "plugins" / kind).glob("*.py")) if (path / "plugins" / kind).is_dir() else []:
            if source.name != "__init__.py":
                found.append(("module" if kind == "modules" else kind, f"gpve.cluster.{source.stem}"))
    return found


def test_ansible_doc_documents_every_plugin_from_the_installed_tarball(built_collection):
    env = tarball.clean_env(ANSIBLE_COLLECTIONS_PATH=str(built_collection.collections_dir))
    listed = json.loads(tarball.run([tarball.BIN / "ansible-galaxy", "collection", "list", "gpve.cluster",
                                     "--format", "json"], env=env))
    assert list(listed) == [str(built_collection.collections_dir / "ansible_collections")]
    plugins = plugins_of(built_collection.path)
    assert ("module", "gpve.cluster.gpve_vcluster") in plugins and ("inventory", "gpve.cluster.gpve") in plugins
    for kind in sorted({kind for kind, _name in plugins}):
        names = [name for plugin_kind, name in plugins if plugin_kind == kind]
        docs = json.loads(tarball.run([tarball.BIN / "ansible-doc", "--json", "-t", kind] + names, env=env))
        for name in names:
            doc = docs[name]["doc"]
            assert doc["short_description"] and doc["description"], name
            assert doc["filename"].startswith(str(built_collection.path)), (name, doc["filename"])


def test_a_module_runs_from_the_installed_tarball(built_collection, tmp_path):
    registry = tmp_path / "registry.db"
    env = tarball.clean_env(ANSIBLE_COLLECTIONS_PATH=str(built_collection.collections_dir),
                            ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
                            ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_HOME=str(tmp_path / "home"),
                            HOME=str(tmp_path))
    out = tarball.run([tarball.BIN / "ansible", "localhost", "-c", "local", "-i", "localhost,",
                       "-e", f"ansible_python_interpreter={tarball.BIN / 'python'}",
                       "-m", "gpve.cluster.gpve_registry", "-a", json.dumps({"registry": str(registry)})], env=env)
    result = json.loads(out)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True and registry.is_file()
