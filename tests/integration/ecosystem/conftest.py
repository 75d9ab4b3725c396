"""Fixtures of the ecosystem tests.

    built_collection   (session) the tarball built from this checkout and installed into an empty collections path:
                       .tarball .collections_dir (holds ansible_collections/) .path (the installed gpve/cluster)
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import tarball_support as tarball


@pytest.fixture(scope="session")
def built_collection(tmp_path_factory):
    root = tmp_path_factory.mktemp("tarball")
    built = tarball.build(root / "dist")
    collections_dir = root / "collections"
    path = tarball.install(built, collections_dir)
    return SimpleNamespace(tarball=built, collections_dir=collections_dir, path=path)
