"""gpve_registry run as Ansible runs it, with hostile arguments, where the registry would be created: each run fails
naming the field and writes nothing (no database, no key file, no directory in the sandbox), and no key or password
of its arguments is in its answer. A registry's key file that ssh would refuse (a link, loose mode, another owner, not
a key) is refused before the database is created."""

from __future__ import annotations

import base64
import os

import pytest

from hostile_support import accepted_writing, refused_writing_nothing, registry_cases

pytestmark = pytest.mark.registry

SECRET = "hunter2-registry"
KEY = base64.b64encode(os.urandom(32)).decode()
BASE = {"registry": "{sandbox}/state/registry.db", "rotate_credentials": True}

# (id, arguments over BASE, field named); None removes an argument.
CASES = registry_cases(SECRET) + [
    ("registry-empty", {"registry": ""}, "registry"),
    ("registry-control", {"registry": "{sandbox}/state/a\x07.db"}, "registry"),
    ("registry-nul", {"registry": "{sandbox}/state/a\x00.db"}, "registry"),
    ("registry-newline", {"registry": "{sandbox}/state/a.db\nb"}, "registry"),
    ("registry-huge", {"registry": "{sandbox}/" + "r" * 5000}, "registry"),
    ("registry-directory", {"registry": "{sandbox}"}, "registry"),
    ("registry-under-a-file", {"registry": "{sandbox}/a-file/registry.db"}, "registry"),
    ("registry-under-proc-file", {"registry": "/proc/version/registry.db"}, "registry"),
    ("registry-file-url", {"registry": "file:///etc/passwd"}, "registry"),
    ("registry-http-url", {"registry": f"http://admin:{SECRET}@db/gpve"}, "registry"),
    ("registry-dsn-bad-port", {"registry": f"postgresql://gpve:{SECRET}@db:99999/gpve"}, "registry"),
    ("registry-dsn-port-zero", {"registry": f"postgresql://gpve:{SECRET}@db:0/gpve"}, "registry"),
    ("key-not-base64", {"encryption_key": f"{SECRET}!!"}, "encryption_key"),
    ("key-short", {"encryption_key": "YWJj"}, "encryption_key"),
    ("key-long", {"encryption_key": base64.b64encode(os.urandom(64)).decode()}, "encryption_key"),
    ("key-empty", {"encryption_key": ""}, "encryption_key"),
    ("key-shell", {"encryption_key": "$(cat /etc/shadow)"}, "encryption_key"),
    ("key-newline", {"encryption_key": KEY + "\nX-Injected: 1"}, "encryption_key"),
    ("key-unicode", {"encryption_key": "\u00e4" * 44}, "encryption_key"),
    ("key-huge", {"encryption_key": "A" * (1100 * 1024)}, "encryption_key"),
    ("retired-key-short", {"retired_keys": ["YWJj"]}, "retired_keys"),
    ("retired-key-not-base64", {"retired_keys": [f"{SECRET}!!"]}, "retired_keys"),
    ("retired-keys-one-bad", {"retired_keys": [KEY, "YWJj"]}, "retired_keys"),
    ("retired-keys-comma-bad", {"retired_keys": [KEY + ",%%"]}, "retired_keys"),
    ("retired-keys-too-many", {"retired_keys": [KEY] * 40000}, "retired_keys"),
    ("rotate-word", {"rotate_credentials": "maybe"}, "rotate_credentials"),
    ("rotate-list", {"rotate_credentials": ["yes"]}, "rotate_credentials"),
    ("unknown-option", {"bogus": True}, "bogus"),
    ("unknown-option-key-file", {"key_file": "/etc/shadow"}, "key_file"),
]


def _link(path):
    path.symlink_to("/etc/hostname")


def _loose(path):
    path.write_text(KEY + "\n")
    path.chmod(0o644)


def _foreign(path):
    path.write_text(KEY + "\n")
    path.chmod(0o600)
    os.chown(path, 65534, 65534)  # nobody: the tests run as root here; elsewhere the case is skipped


def _not_a_key(path):
    path.write_text(SECRET + "\n")
    path.chmod(0o600)


def _directory(path):
    path.mkdir(mode=0o700)


# The key file beside the database (registry.key), as a hostile user could leave it: (id, how it is made)
KEY_FILES = [("link", _link), ("loose-mode", _loose), ("other-owner", _foreign), ("not-a-key", _not_a_key),
             ("directory", _directory)]


@pytest.mark.parametrize("args, field", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_argument_fails_naming_the_field_and_writes_nothing(sandbox, tmp_path, args, field):
    refused_writing_nothing("gpve_registry", dict(BASE, **args), tmp_path, field, str(sandbox / "state" / "registry.db"),
                            sandbox, SECRET)


@pytest.mark.parametrize("make", [case[1] for case in KEY_FILES], ids=[case[0] for case in KEY_FILES])
def test_a_key_file_ssh_would_refuse_is_refused_before_the_database_is_created(sandbox, tmp_path, make):
    assert make is not _foreign or os.geteuid() == 0, "giving a file to another user needs root (the suite runs as root)"
    (sandbox / "state").mkdir(mode=0o700)
    make(sandbox / "state" / "registry.key")
    refused_writing_nothing("gpve_registry", BASE, tmp_path, "registry", str(sandbox / "state" / "registry.db"), sandbox,
                            SECRET)


def test_without_a_hostile_argument_the_run_creates_the_registry_where_the_table_looks(sandbox, tmp_path):
    accepted_writing("gpve_registry", BASE, tmp_path, str(sandbox / "state" / "registry.db"), sandbox)
    assert sorted(path.name for path in (sandbox / "state").iterdir()) == ["registry.db", "registry.key"]
