"""gpve_kubeconfig against hostile input: every refusal names the field and writes nothing - no file (in dest's
directory, beside it, or where a traversing or absolute context_name points), no issued-* record, no event.

The registry is a real SQLite registry holding a virtual cluster and its CA (method ca mints locally, so no API
server is involved); the module runs as Ansible runs it."""

from __future__ import annotations

import datetime
import os
import stat
import uuid
from pathlib import Path

import pytest
import yaml

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs, keys
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from hostile_support import files_under, refused, registry_rows
from tests.as_a_user import ansible_cli

pytestmark = pytest.mark.external

ENDPOINT = "https://127.0.0.1:6443"
MARK = f"gpve-hostile-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def sandbox(tmp_path):
    """(registry path, dest directory, the sandbox root watched for writes)."""
    root = tmp_path / "sandbox"
    (root / "out").mkdir(parents=True)
    (root / "a-file").write_text("not a directory\n")
    registry = str(tmp_path / "registry.db")
    ca = certs.new_ca("vc-team-ca", certs.utcnow(), datetime.timedelta(days=30))
    with open_registry(registry, actor="hostile-tests", environ={}) as store:
        cluster = store.create_cluster("vc-team", "vcluster", spec={"kubernetes_version": "1.37.2", "isolation_mode": "namespace"})
        for phase in ("Provisioning", "Initializing", "Starting", "Running"):
            lifecycle.transition(store, cluster.id, phase, "Seeded", endpoint=ENDPOINT)
        store.put_credential(cluster.id, "ca", certs.cert_pem(ca.cert) + keys.private_key_pem(ca.key))
    return registry, root / "out", root


BASE = {"name": "vc-team", "method": "ca", "dest": "{out}/kc.yaml"}

# (id, arguments over BASE, the field the refusal names)
CASES = [
    ("context-traversal", {"context_name": "../server", "embed_certs": False}, "context_name"),
    ("context-deep-traversal", {"context_name": "../../../../etc/" + MARK, "embed_certs": False}, "context_name"),
    ("context-absolute", {"context_name": "/tmp/" + MARK, "embed_certs": False}, "context_name"),
    ("context-absolute-embedded", {"context_name": "/tmp/" + MARK}, "context_name"),
    ("context-dotdot", {"context_name": "..", "embed_certs": False}, "context_name"),
    ("context-hidden", {"context_name": ".bashrc", "embed_certs": False}, "context_name"),
    ("context-subdir", {"context_name": "a/b", "embed_certs": False}, "context_name"),
    ("context-backslash", {"context_name": "a\\..\\b", "embed_certs": False}, "context_name"),
    ("context-empty", {"context_name": ""}, "context_name"),
    ("context-shell", {"context_name": "x; rm -rf /", "embed_certs": False}, "context_name"),
    ("context-substitution", {"context_name": "$(id)", "embed_certs": False}, "context_name"),
    ("context-newline", {"context_name": "ctx\nevil: true"}, "context_name"),
    ("context-nul", {"context_name": "ctx\x00.key", "embed_certs": False}, "context_name"),
    ("context-unicode", {"context_name": "k\u00fcbe\u202e", "embed_certs": False}, "context_name"),
    ("context-huge", {"context_name": "c" * 5000, "embed_certs": False}, "context_name"),
    ("name-shell", {"name": "a;rm -rf /"}, "name"),
    ("name-traversal", {"name": "../vc-team"}, "name"),
    ("name-empty", {"name": ""}, "name"),
    ("name-upper", {"name": "VC-TEAM"}, "name"),
    ("id-traversal", {"name": None, "id": "../../etc/passwd"}, "id"),
    ("expiry-negative", {"expiry_hours": -1}, "expiry_hours"),
    ("expiry-zero", {"expiry_hours": 0}, "expiry_hours"),
    ("expiry-huge", {"expiry_hours": 10 ** 9}, "expiry_hours"),
    ("expiry-wrong-type", {"expiry_hours": "forever"}, "expiry_hours"),
    ("timeout-negative", {"timeout": -5}, "timeout"),
    ("timeout-zero", {"timeout": 0}, "timeout"),
    ("timeout-huge", {"timeout": 1e12}, "timeout"),
    ("server-credentials", {"server": "https://admin:hunter2@10.0.0.1:6443"}, "server"),
    ("server-scheme", {"server": "file:///etc/passwd"}, "server"),
    ("server-no-host", {"server": "https://"}, "server"),
    ("server-space", {"server": "https://host:6443/ x"}, "server"),
    ("user-empty", {"user": ""}, "user"),
    ("user-control", {"user": "admin\r\nX-Injected: 1"}, "user"),
    ("user-huge", {"user": "u" * 1000}, "user"),
    ("group-control", {"groups": ["ok", "bell\x07"]}, "groups[1]"),
    ("groups-too-many", {"groups": [f"g{n}" for n in range(100)]}, "groups"),
    ("dest-directory", {"dest": "{out}"}, "dest"),
    ("dest-under-a-file", {"dest": "{root}/a-file/kc.yaml"}, "dest"),
    ("embed-false-without-dest", {"dest": None, "embed_certs": False}, "embed_certs"),
    ("method-unknown", {"method": "steal"}, "method"),
    ("unknown-option", {"context": "x"}, "context"),
    ("registry-mysql", {"registry": "mysql://root:hunter2@db/gpve"}, "registry"),
    ("registry-libpq-keywords", {"registry": "host=db password=hunter2"}, "registry"),
]


@pytest.mark.parametrize("args, field", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_input_is_refused_naming_the_field_and_nothing_is_written(sandbox, tmp_path, args, field):
    registry, out, root = sandbox
    values = dict(BASE, registry=registry)
    values.update(args)
    values = {key: value.format(out=out, root=root) if isinstance(value, str) and "{" in value and key == "dest" else value
              for key, value in values.items() if value is not None}
    rows, written = registry_rows(registry), files_under(root)
    result = refused("gpve_kubeconfig", values, tmp_path, field)
    assert registry_rows(registry) == rows
    assert files_under(root) == written
    assert not list(Path("/tmp").glob(MARK + "*")) and not os.path.exists("/etc/" + MARK)
    assert "hunter2" not in repr(result)


def test_a_name_writes_its_files_beside_dest_at_0600_in_a_0700_directory_whatever_the_umask(sandbox, tmp_path):
    registry, out, _root = sandbox
    dest = out / "new" / "deeper" / "kc.yaml"
    old = os.umask(0)
    try:
        result = ansible_cli.run_module("gpve_kubeconfig", dict(BASE, registry=registry, dest=str(dest),
                                                                context_name="team_a@vc", embed_certs=False), tmp_path)
    finally:
        os.umask(old)
    assert not result.get("failed"), result
    written = sorted(p.name for p in dest.parent.iterdir())
    assert written == ["kc.yaml", "team_a@vc-ca.crt", "team_a@vc.crt", "team_a@vc.key"]
    for path in dest.parent.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for directory in (out / "new", out / "new" / "deeper"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    user = yaml.safe_load(dest.read_text())["users"][0]["user"]
    assert user["client-key"] == str(dest.parent / "team_a@vc.key")
