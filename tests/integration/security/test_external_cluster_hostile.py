"""gpve_external_cluster run as Ansible runs it against the testbed's API server, with hostile arguments: each run
fails naming the field and writes nothing (no registry row: the SQLite registry is not even created), and no
password of the arguments is in its answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from hostile_support import name_cases, refused, registry_cases, registry_rows

pytestmark = pytest.mark.external

SECRET = "hunter2-external"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, "
    f"*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}]\n" for n in range(8))


def _token_connection(endpoint):
    return {"endpoint": endpoint, "auth": {"type": "token", "token": "x"}}


# (id, arguments over {name, kubeconfig}, field named); None removes an argument.
CASES = name_cases("name") + registry_cases(SECRET) + [
    ("name-upper", {"name": "LAB"}, "name"),
    ("name-slash", {"name": "team/lab"}, "name"),
    ("label-key", {"labels": {"bad key": "x"}}, "labels"),
    ("label-key-huge", {"labels": {"k" * 100: "x"}}, "labels"),
    ("label-value-shell", {"labels": {"team": "$(id)"}}, "labels.team"),
    ("label-value-number", {"labels": {"team": 7}}, "labels.team"),
    ("provider-shell", {"provider": "eks; rm -rf /"}, "provider"),
    ("provider-empty", {"provider": ""}, "provider"),
    ("timeout-negative", {"timeout": -1}, "timeout"),
    ("timeout-zero", {"timeout": 0}, "timeout"),
    ("timeout-huge", {"timeout": 1e9}, "timeout"),
    ("endpoint-credentials", {"kubeconfig": None, "connection": _token_connection(f"https://admin:{SECRET}@127.0.0.1:6443")},
     "connection.endpoint"),
    ("endpoint-scheme", {"kubeconfig": None, "connection": _token_connection("file:///etc/passwd")}, "connection.endpoint"),
    ("endpoint-no-host", {"kubeconfig": None, "connection": _token_connection("https://")}, "connection.endpoint"),
    ("both-sources", {"connection": _token_connection("https://127.0.0.1:6443")}, "kubeconfig"),
    ("kubeconfig-not-yaml", {"kubeconfig": "clusters: [unclosed"}, "kubeconfig"),
    ("kubeconfig-alias-bomb", {"kubeconfig": "{kubeconfig}preferences:\n  " + BOMB.replace("\n", "\n  ")}, "kubeconfig"),
    ("kubeconfig-huge", {"kubeconfig": "{kubeconfig}# " + "x" * (1100 * 1024) + "\n"}, "kubeconfig"),
    ("monitoring-alias-bomb", {"monitoring": {"components": {"x": [["lol" * 30] * 60] * 60}}}, "monitoring"),
    ("auth-type-unknown", {"kubeconfig": None,
                           "connection": {"endpoint": "https://127.0.0.1:6443", "auth": {"type": "kerberos"}}}, "auth"),
    ("state-unknown", {"state": "gone"}, "state"),
    ("unknown-option", {"bogus": True}, "bogus"),
]


@pytest.mark.parametrize("args, field", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_argument_fails_naming_the_field_and_writes_nothing(testbed, tmp_path, args, field):
    registry = str(tmp_path / "registry.db")
    admin = Path(testbed.kubeconfig).read_text()
    values = {"name": "lab", "kubeconfig": admin, "registry": registry}
    values.update(args)
    values = {key: value.replace("{kubeconfig}", admin) if isinstance(value, str) else value
              for key, value in values.items() if value is not None}
    result = refused("gpve_external_cluster", values, tmp_path, field)
    assert registry_rows(registry) is None  # not even created
    assert SECRET not in repr(result)
