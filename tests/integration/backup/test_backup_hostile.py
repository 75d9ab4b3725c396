"""gpve_cluster_backup run as Ansible runs it, on the testbed registered as a cluster, with hostile arguments: each
run fails naming the field and writes nothing - no registry row (no backup record, empty or not), no archive or
directory in the storage path - and no password of the arguments is in its answer."""

from __future__ import annotations

import pytest

from tests.integration.security.hostile_support import files_under, registry_rows
from tests.as_a_user import ansible_cli

pytestmark = pytest.mark.backup

SECRET = "hunter2-backup"


def _s3(**settings):
    return dict({"type": "s3", "bucket": "gpve", "endpoint_url": "http://127.0.0.1:9", "access_key": "AKIAEXAMPLEACCESS",
                 "secret_key": "example-secret-value"}, **settings)


# (id, arguments over {cluster, type: resources}, field named)
CASES = [
    ("namespace-traversal", {"include_namespaces": ["../../etc"]}, "include_namespaces[0]"),
    ("namespace-absolute", {"include_namespaces": ["/etc"]}, "include_namespaces[0]"),
    ("namespace-shell", {"include_namespaces": ["ns;rm -rf /"]}, "include_namespaces[0]"),
    ("namespace-substitution", {"include_namespaces": ["ok", "$(id)"]}, "include_namespaces[1]"),
    ("namespace-upper", {"include_namespaces": ["Default"]}, "include_namespaces[0]"),
    ("namespace-huge", {"include_namespaces": ["n" * 64]}, "include_namespaces[0]"),
    ("namespace-unicode", {"include_namespaces": ["d\u00e9fault"]}, "include_namespaces[0]"),
    ("exclude-namespace-space", {"exclude_namespaces": ["a b"]}, "exclude_namespaces[0]"),
    ("resource-shell", {"include_resources": ["deployments; rm -rf /"]}, "include_resources[0]"),
    ("resource-traversal", {"include_resources": ["../secrets"]}, "include_resources[0]"),
    ("exclude-resource-punctuation", {"exclude_resources": ["secrets!"]}, "exclude_resources[0]"),
    ("mapping-target-traversal", {"namespace_mapping": {"a": "../b"}}, "namespace_mapping.a"),
    ("mapping-source-traversal", {"namespace_mapping": {"../a": "b"}}, "namespace_mapping"),
    ("mapping-same-target", {"namespace_mapping": {"a": "c", "b": "c"}}, "namespace_mapping"),
    ("cluster-shell", {"cluster": "a;rm -rf /"}, "cluster"),
    ("cluster-traversal", {"cluster": "../x"}, "cluster"),
    ("backup-id-traversal", {"state": "absent", "backup_id": "../../etc/passwd"}, "backup_id"),
    ("retention-negative", {"retention_hours": -5}, "retention_hours"),
    ("retention-huge", {"retention_hours": 10 ** 9}, "retention_hours"),
    ("s3-endpoint-credentials", {"storage": _s3(endpoint_url=f"https://admin:{SECRET}@127.0.0.1:9000")},
     "storage.endpoint_url"),
    ("s3-prefix-traversal", {"storage": _s3(prefix="../other")}, "storage.prefix"),
    ("s3-prefix-absolute", {"storage": _s3(prefix="/root")}, "storage.prefix"),
    ("s3-bucket-dotdot", {"storage": _s3(bucket="..")}, "storage.bucket"),
    ("storage-path-under-a-file", {"storage": {"type": "local", "path": "{plain}/backups"}}, "storage.path"),
    ("etcd-endpoint-file", {"type": "etcd", "etcd": {"endpoints": ["file:///etc/passwd"]}}, "etcd.endpoints[0]"),
    ("etcd-endpoint-credentials", {"type": "etcd", "etcd": {"endpoints": [f"https://root:{SECRET}@127.0.0.1:2379"]}},
     "etcd.endpoints[0]"),
    ("type-unknown", {"type": "everything"}, "type"),
    ("state-unknown", {"state": "gone"}, "state"),
    ("policy-unknown", {"existing_resource_policy": "overwrite"}, "existing_resource_policy"),
    ("namespaces-huge-list", {"include_namespaces": ["n" * 60] * 20000}, "include_namespaces"),
    ("unknown-option", {"bogus": True}, "bogus"),
    ("registry-mysql", {"registry": f"mysql://root:{SECRET}@db/gpve"}, "registry"),
]


@pytest.mark.parametrize("args, field", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_argument_fails_naming_the_field_and_writes_nothing(module, registered, registry_path, backup_dir,
                                                                    tmp_path, args, field):
    _store, cluster = registered
    plain = tmp_path / "plain"
    plain.write_text("x\n")
    values = dict({"cluster": cluster.name, "type": "resources"}, **args)
    if isinstance(values.get("storage"), dict) and "path" in values["storage"]:
        values["storage"] = dict(values["storage"], path=values["storage"]["path"].format(plain=plain))
    rows, files = registry_rows(str(registry_path)), files_under(str(backup_dir), str(plain))
    if "registry" in values:  # the runner would put the test's registry in its place
        result = ansible_cli.run_module("gpve_cluster_backup", values, tmp_path, env={"GPVE_BACKUP_PATH": str(backup_dir)})
    else:
        result = module.run(env={"GPVE_BACKUP_PATH": str(backup_dir)}, **values)
    assert result.get("failed"), str(result)[:600]
    message = str(result.get("msg"))
    assert field in message or result.get("field") == field, message
    if result.get("field") is not None:
        assert result["field"] == field
    assert registry_rows(str(registry_path)) == rows
    assert files_under(str(backup_dir), str(plain)) == files
    assert SECRET not in repr(result)
