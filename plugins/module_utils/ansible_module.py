# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GpveModule: the AnsibleModule every gpve.cluster module is, with the registry's secrets never shown.

The ``registry`` option is a path or a DSN; a DSN may carry a password. Marking the whole option
``no_log`` would hide SQLite paths too (Ansible masks the value wherever it appears), so instead the
password parts of ``registry`` and of ``GPVE_REGISTRY`` (redact.secrets) become no_log values the
moment the arguments are read: before argument validation can fail, so even that failure's
``invocation`` (shown by ``-vvv``), every message, warning and return value has them masked, while
the path, user and host stay readable. The same holds for a password in the user info of any URL
argument (``https://user:password@host``), which the modules refuse.
"""

from __future__ import annotations

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpve.cluster.plugins.module_utils import checks, redact
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

REGISTRY_ENV = "GPVE_REGISTRY"
# Ansible's own argument refusals that name one top-level option (a suboption's say "found in ..."): that option is the field.
_ARGUMENT_FIELD = (
    re.compile(r"^value of ([A-Za-z0-9_]+) must be one of: .*, got: .*$", re.S),
    re.compile(r"^argument '([A-Za-z0-9_]+)' is of type "),
    re.compile(r"^missing required arguments: ([A-Za-z0-9_]+)$"),
    re.compile(r"^Unsupported parameters for \([^)]*\) module: ([A-Za-z0-9_]+)\. Supported parameters include"),
)
ARGUMENT_ERROR = "ArgumentError"


def registry_secrets(params, environ=None):
    """The secrets of the registry option and of GPVE_REGISTRY (empty for paths)."""
    environ = os.environ if environ is None else environ
    found = set()
    for location in ((params or {}).get("registry"), environ.get(REGISTRY_ENV)):
        if isinstance(location, str):
            found |= redact.secrets(location)
    return found


class GpveModule(AnsibleModule):
    """An AnsibleModule whose registry secrets are no_log values from the start.

    Once Ansible has checked the arguments' types, two checks every module shares run before the
    module does anything: the registry location (a path or a postgresql:// DSN) and the size of
    every text, mapping or list argument once expanded (checks.bounded: a YAML alias bomb).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        try:
            redact.check_location(self.params.get("registry"), "registry")
            for name, value in self.params.items():
                if isinstance(value, (dict, list, str)):
                    checks.bounded(value, name)
        except ValidationError as exc:
            self.fail_json(msg=str(exc), error_type=type(exc).__name__, field=exc.field)

    def fail_json(self, msg, **kwargs):  # pylint: disable=arguments-differ
        """Every failure in the one shape: msg, error_type and, where one option is at fault, field.

        module_runner's failures come with both. Ansible's own argument checks call this with msg alone: their
        error_type is the validation error's class (ArgumentValueError, UnsupportedError...) and their field the
        option the message names, when it names exactly one top-level option.
        """
        if "error_type" not in kwargs:
            kwargs["error_type"] = self._validation_error_type()
            if "field" not in kwargs and " found in " not in str(msg):
                for pattern in _ARGUMENT_FIELD:
                    match = pattern.match(str(msg))
                    if match:
                        kwargs["field"] = match.group(1)
                        break
        super().fail_json(msg, **kwargs)

    def _validation_error_type(self):
        try:
            return type(self.validation_result.errors[0]).__name__
        except (AttributeError, IndexError):
            return ARGUMENT_ERROR

    def _load_params(self):
        super()._load_params()
        # A password in any URL argument (a refused one included) is masked too: refusing it must not echo it.
        self.no_log_values.update(registry_secrets(self.params) | redact.url_passwords(self.params))
