"""What AWX does to a job before ansible-runner starts it, done here without an AWX server.

inject(credential_type, inputs, private_data_dir) renders a custom credential type's injectors the way AWX's
CredentialType.inject_credential does (awx/main/models/credential): the inputs form the namespace (empty strings
left out, a missing boolean is False), each ``file`` template is rendered with Jinja's ImmutableSandboxedEnvironment
into a 0600 file under <private_data_dir>/env whose path is ``tower.filename`` (``tower.filename.<name>`` for
``template.<name>``), then every ``env`` template, then ``extra_vars`` into a file passed as ``-e @file``.
A required input that is missing is refused as AWX refuses to save such a credential.

kubernetes_bearer_token(inputs, private_data_dir) is AWX's built-in "OpenShift or Kubernetes API Bearer Token"
injector (awx/main/models/credential/injectors.py).

run_job(...) runs a playbook of the project through ansible-runner, AWX's job engine, with the job's environment
(JOB_ID and AWX_HOST as the controller exports them) and extra vars (awx_user_name, awx_job_id, ...).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import yaml
from jinja2 import sandbox

REPO = Path(__file__).resolve().parents[3]
CREDENTIAL_TYPES = REPO / "playbooks" / "awx" / "credential_types"
PROJECT_PLAYBOOKS = REPO / "playbooks" / "awx" / "project"
# AWX refuses these in a custom injector's env (CredentialTypeInjectorField.validate_env_var_allowed).
PROHIBITED_ENV = ("ANSIBLE_", "AWX_", "TOWER_", "JOB_", "INVENTORY_", "PROJECT_", "PATH", "PYTHONPATH", "HOME",
                  "VIRTUAL_ENV", "MAX_EVENT_RES", "CALLBACK_")


class MissingInput(ValueError):
    """A required input of a credential type is missing."""


def credential_type(name):
    return yaml.safe_load((CREDENTIAL_TYPES / f"{name}.yml").read_text())


class _Tower:
    pass


def inject(definition, inputs, private_data_dir):
    """(env, extra_vars_args) for a credential of this type with these inputs, files written as AWX writes them."""
    fields = definition["inputs"]["fields"]
    missing = [field_id for field_id in definition["inputs"].get("required", []) if inputs.get(field_id) in (None, "")]
    if missing:
        labels = {field["id"]: field["label"] for field in fields}
        raise MissingInput(f"credential type {definition['name']!r}: {', '.join(labels[m] for m in missing)} "
                           f"({', '.join(missing)}) is required; fill it in the credential")
    namespace = {}
    for key, value in inputs.items():
        if isinstance(value, bool) or (value is not None and len(value)):
            namespace[key] = value
    for field in fields:
        if field.get("type") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    tower = _Tower()
    namespace["tower"] = tower
    env_dir = Path(private_data_dir) / "env"
    env_dir.mkdir(parents=True, exist_ok=True)
    jinja = sandbox.ImmutableSandboxedEnvironment()
    for label, template in definition["injectors"].get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as out:
            out.write(jinja.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if "." not in label:
            tower.filename = path
        else:
            if not hasattr(tower, "filename"):
                tower.filename = _Tower()
            setattr(tower.filename, label.split(".", 1)[1], path)
    env = {name: jinja.from_string(template).render(**namespace)
           for name, template in definition["injectors"].get("env", {}).items()}
    args = []
    extra_vars = definition["injectors"].get("extra_vars")
    if extra_vars:
        rendered = {key: jinja.from_string(value).render(**namespace) for key, value in extra_vars.items()}
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as out:
            out.write(yaml.safe_dump(rendered))
        args += ["-e", f"@{path}"]
    return env, args


def kubernetes_bearer_token(inputs, private_data_dir):
    """AWX's built-in Kubernetes bearer token credential's environment."""
    env = {"K8S_AUTH_HOST": inputs.get("host", ""), "K8S_AUTH_API_KEY": inputs.get("bearer_token", "")}
    if inputs.get("verify_ssl") and "ssl_ca_cert" in inputs:
        env["K8S_AUTH_VERIFY_SSL"] = "True"
        handle, path = tempfile.mkstemp(dir=private_data_dir)
        with os.fdopen(handle, "w") as out:
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
            out.write(inputs["ssl_ca_cert"])
        env["K8S_AUTH_SSL_CA_CERT"] = path
    else:
        env["K8S_AUTH_VERIFY_SSL"] = "False"
    return env


def run_job(private_data_dir, playbook, env, extra_vars, collections_dir, cmdline_args=(), job_id=42, user="alice"):
    """Run project playbook <playbook> (a file of playbooks/awx/project) as an AWX job; the ansible-runner Runner."""
    import ansible_runner

    private_data_dir = Path(private_data_dir)
    project = private_data_dir / "project"
    project.mkdir(parents=True, exist_ok=True)
    (project / playbook).write_text((PROJECT_PLAYBOOKS / playbook).read_text())
    inventory = private_data_dir / "inventory"
    inventory.mkdir(exist_ok=True)
    python = REPO / ".venv" / "bin" / "python"
    (inventory / "hosts").write_text(f"localhost ansible_connection=local ansible_python_interpreter={python}\n")
    job_env = dict(env, JOB_ID=str(job_id), AWX_HOST="https://awx.example", ANSIBLE_COLLECTIONS_PATH=str(collections_dir),
                   HOME=str(private_data_dir), ANSIBLE_NOCOLOR="1", PYTHONPATH="")
    variables = dict(extra_vars, awx_user_name=user, awx_job_id=job_id, tower_user_name=user, tower_job_id=job_id)
    return ansible_runner.run(private_data_dir=str(private_data_dir), playbook=playbook, envvars=job_env,
                              extravars=variables, cmdline=" ".join(cmdline_args) or None, quiet=True)
