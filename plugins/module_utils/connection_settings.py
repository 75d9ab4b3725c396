# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection settings from the task or the environment: the one precedence rule.

A connection setting (the Proxmox API's, the host cluster's) takes its value from the first of:

1. the task option;
2. its ``GPVE_*`` environment variable;
3. the variable the Ansible ecosystem already sets for it: kubernetes.core's ``K8S_AUTH_*``
   (which AWX's Kubernetes credential injects) or community.proxmox's ``PROXMOX_*``.

Some credentials exclude each other (Proxmox: a password or a token; a host cluster: a kubeconfig or an
address with its token or client certificate). Given both as task options, the task fails before anything
runs (the module's ``mutually_exclusive``). Otherwise the one the task gives wins, and when only the
environment gives both, the token wins; a warning names the setting left aside either way.

docs/credentials.md says the same for users; keep the two in step.
"""

from __future__ import annotations

import os

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

TASK = "task"


class Setting:
    """One option: its name, its GPVE_* variable, the ecosystem's variable, its type and default."""

    def __init__(self, name, gpve, ecosystem=None, kind="str", default=None, secret=False):
        self.name = name
        self.variables = tuple(variable for variable in (gpve, ecosystem) if variable)
        self.kind = kind
        self.default = default
        self.secret = secret


class Alternative:
    """One way to log in: its label for messages, the options that make it, the one that decides it is given."""

    def __init__(self, label, options, key):
        self.label = label
        self.options = tuple(options)
        self.key = key


class Resolved:
    """The values after the rule, where each came from, the warnings to show and the secrets to hide."""

    def __init__(self, values, sources, secrets):
        self.values = values
        self.sources = sources
        self.secrets = secrets
        self.warnings = []

    def source(self, name):
        """The option or environment variable a value came from, for messages; None when unset."""
        found = self.sources.get(name)
        return name if found == TASK else found

    def drop(self, names):
        for name in names:
            self.values[name] = None
            self.sources[name] = None


def resolve(params, settings, environ=None):
    """Values of settings by the precedence rule; a malformed environment value raises ValidationError."""
    environ = os.environ if environ is None else environ
    values, sources, secrets = {}, {}, []
    for setting in settings:
        value, source = params.get(setting.name), TASK
        if value is None:
            value, source = _from_environment(setting, environ)
        if value is None:
            value, source = setting.default, None
        values[setting.name], sources[setting.name] = value, source
        if setting.secret and value and source not in (None, TASK):
            secrets.append(value)
    return Resolved(values, sources, secrets)


def environment_secrets(settings, environ=None):
    """The secret values the environment holds for settings: to hide before a run that resolves them later."""
    environ = os.environ if environ is None else environ
    return [environ[variable].strip() for setting in settings if setting.secret for variable in setting.variables
            if (environ.get(variable) or "").strip()]


def choose(resolved, alternatives):
    """Keep one of the alternatives that are given: the task's, else the first listed (the token), with a warning.

    Two given in the task cannot reach here (mutually_exclusive); if they do, that is a ValidationError too.
    """
    given = [alternative for alternative in alternatives if resolved.values.get(alternative.key)]
    if len(given) < 2:
        return
    from_task = [alternative for alternative in given if resolved.sources[alternative.key] == TASK]
    if len(from_task) > 1:
        raise ValidationError(from_task[1].key, "give {0} or {1}, not both".format(
            " and ".join(from_task[0].options), " and ".join(from_task[1].options)))
    kept = from_task[0] if from_task else given[0]
    for alternative in given:
        if alternative is kept:
            continue
        ignored = [resolved.source(name) for name in alternative.options if resolved.sources.get(name) not in (None, TASK)]
        resolved.drop([name for name in alternative.options if resolved.sources.get(name) != TASK])
        if ignored:
            resolved.warnings.append("{0} from {1} is used; {2} from {3} is ignored (task options beat the environment, "
                                     "and between two from the environment a token wins)".format(
                                         kept.label, resolved.source(kept.key), alternative.label, ", ".join(ignored)))


def _from_environment(setting, environ):
    for variable in setting.variables:
        raw = environ.get(variable)
        if raw is None or raw.strip() == "":
            continue
        return _convert(raw.strip(), setting.kind, variable), variable
    return None, None


def _convert(raw, kind, variable):
    if kind == "bool":
        try:
            return boolean(raw, strict=True)
        except TypeError:
            raise ValidationError(variable, "{0!r} is not a boolean; use true or false".format(raw)) from None
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise ValidationError(variable, "{0!r} is not a whole number".format(raw)) from None
    if kind == "path":
        return os.path.expanduser(os.path.expandvars(raw))
    return raw
