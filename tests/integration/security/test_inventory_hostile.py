"""The gpve.cluster.gpve inventory plugin with hostile sources, through ansible-inventory: each source fails, its
message names the option, no registry file is created, and no password of the source is printed."""

from __future__ import annotations

import socket

import pytest
import yaml

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.as_a_user import ansible_cli

pytestmark = pytest.mark.inventory

SECRET = "hunter2-inventory"


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# (id, source keys over {plugin, registry}, what the message names)
CASES = [
    ("unknown-key", {"bogus": 1}, "bogus"),
    ("unknown-key-typo", {"want_cluster": False}, "want_cluster"),
    ("unknown-key-registry-typo", {"regsitry": "/tmp/x.db"}, "regsitry"),
    ("unknown-key-shell", {"$(id)": 1}, "$(id)"),
    ("unknown-key-path", {"../../etc/passwd": 1}, "../../etc/passwd"),
    ("unknown-key-unicode", {"r\u00e9gistry": 1}, "r\u00e9gistry"),
    ("unknown-keys-several", {"foo": 1, "bar": 2}, "bar, foo"),
    ("unknown-key-huge", {"k" * 500: 1}, "k" * 500),
    ("registry-mysql", {"registry": f"mysql://root:{SECRET}@db/gpve"}, "registry"),
    ("registry-libpq", {"registry": f"host=db password={SECRET}"}, "registry"),
    ("registry-sqlite-url", {"registry": "sqlite:////tmp/gpve.db"}, "registry"),
    ("registry-http", {"registry": "https://db.example/gpve"}, "registry"),
    ("registry-control-characters", {"registry": "/tmp/a\x01b.db"}, "registry"),
    ("registry-huge", {"registry": "/tmp/" + "r" * 5000}, "registry"),
    ("registry-missing-file", {"registry": "{tmp}/absent/registry.db"}, "registry"),
    ("registry-unreachable-dsn", {"registry": "postgresql://gpve:" + SECRET + "@127.0.0.1:{port}/gpve"}, "registry"),
    ("types-unknown", {"types": ["kubevirt"]}, "types"),
    ("types-shell", {"types": ["vcluster; id"]}, "types"),
    ("types-not-a-list", {"types": {"a": 1}}, "types"),
    ("want-clusters-word", {"want_clusters": "maybe"}, "want_clusters"),
    ("want-nodes-list", {"want_nodes": [1]}, "want_nodes"),
    ("labels-not-a-mapping", {"labels": ["env=prod"]}, "labels"),
    ("phases-not-a-list", {"phases": {"Running": True}}, "phases"),
    ("names-not-a-list", {"names": {"a": 1}}, "names"),
    ("strict-word", {"strict": "sometimes"}, "strict"),
    ("compose-not-a-mapping", {"compose": ["x"]}, "compose"),
    ("keyed-groups-not-a-list", {"keyed_groups": "team"}, "keyed_groups"),
    ("groups-not-a-mapping", {"groups": ["x"]}, "groups"),
    ("cache-word", {"cache": "often"}, "cache"),
    ("cache-timeout-word", {"cache": True, "cache_timeout": "soon"}, "cache_timeout"),
]


@pytest.mark.parametrize("keys, named", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_hostile_source_fails_naming_the_option(registry, tmp_path, keys, named):
    source = {"plugin": "gpve.cluster.gpve", "registry": registry}
    source.update({key: value.format(tmp=tmp_path, port=_closed_port()) if isinstance(value, str) and "{" in value
                   else value for key, value in keys.items()})
    path = tmp_path / "gpve.yml"
    path.write_text(yaml.safe_dump(source, allow_unicode=True))
    before = sorted(p.name for p in tmp_path.iterdir())
    done = ansible_cli.run(["ansible-inventory", "-i", str(path), "--list"], tmp_path, check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-2000:]
    assert named in output, output[-2000:]
    assert SECRET not in output
    assert sorted(p.name for p in tmp_path.iterdir() if p.name not in ("ansible.cfg", "tmp", "ansible-home")) == \
        [name for name in before if name not in ("ansible.cfg", "tmp", "ansible-home")]


def test_a_dsn_is_handed_on_without_its_password(pg_database, tmp_path):
    dsn = pg_database.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")
    with open_registry(dsn, encryption_key=None, environ={}) as store:
        store.create_cluster("lab", "external", spec={"endpoint": "https://127.0.0.1:6443"})
    path = tmp_path / "gpve.yml"
    path.write_text(yaml.safe_dump({"plugin": "gpve.cluster.gpve", "registry": dsn}))
    listed, _unsafe = ansible_cli.inventory_list(path, tmp_path)
    handed = listed["_meta"]["hostvars"]["cluster_lab"]["gpve_kubeconfig"]["registry"]
    assert handed == pg_database and SECRET not in repr(listed)
