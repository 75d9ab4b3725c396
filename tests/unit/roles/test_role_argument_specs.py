"""Every role variable a user can set is in the role's argument specification, with the same default.

ansible-core validates a role's input against meta/argument_specs.yml and ansible-doc shows it:
a default missing there is an option nobody can discover, and a spec default that differs from
defaults/main.yml documents a value the role does not use.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.roles

ROLES = Path(__file__).resolve().parents[3] / "roles"
ROLE_NAMES = sorted(path.parent.parent.name for path in ROLES.glob("*/defaults/main.yml"))


def _options(role: str) -> dict:
    spec = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())
    options = {}
    for entry_point in spec["argument_specs"].values():
        options.update(entry_point.get("options") or {})
    return options


def _defaults(role: str) -> dict:
    return yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text()) or {}


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_default_is_specified(role):
    defaults = _defaults(role)
    options = _options(role)
    assert sorted(set(defaults) - set(options)) == [], f"roles/{role}: defaults missing from meta/argument_specs.yml"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_specified_defaults_match_the_role_defaults(role):
    defaults = _defaults(role)
    differing = {name: (option["default"], defaults[name]) for name, option in _options(role).items()
                 if "default" in option and name in defaults and option["default"] != defaults[name]}
    assert differing == {}, f"roles/{role}: argument_specs default differs from defaults/main.yml (spec, role)"
