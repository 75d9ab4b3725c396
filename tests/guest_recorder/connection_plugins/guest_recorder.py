# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A connection plugin of the tests only: it runs nothing, records what it is given and answers plausibly.

For the distributions that cannot run here (k3s, rke2, k0s; Talos goes through tests/guest_recorder/bin/talosctl)
the roles' tasks inside the VMs go to this connection (ANSIBLE_CONNECTION_PLUGINS=tests/guest_recorder/
connection_plugins, ANSIBLE_TRANSPORT=guest_recorder). Every module it is given becomes one JSON line in
GPVE_RECORDER_FILE: {"host", "module", "args", "environment", "no_log"}; a file the action put beforehand (copy's content, a script) is
inlined as args["content"]. The record is what the node would have received, secrets included: "no_log" says which
calls Ansible keeps out of its output, and the tests check that a secret is in those only. A command or service start that starts
a kubelet also writes {"step": "kubelet", "host", "data": {"kubelet": {"node", "version"}}}, which the node
stand-in (tests/testbed/node_standin.py, follow_record) turns into a Ready Node.

Answers: ping pong; setup some Debian 12 facts; find one file per search (named after the first pattern, in the first
path), which stat then finds; stat "does not exist" for any other path; every file read back (slurp, fetch) holds
GPVE_RECORDER_KUBECONFIG (in these roles only kubeconfigs and snapshots are read back), but for a certificate or key
slurped from /etc/kubernetes/pki/, which holds a PEM-shaped placeholder; command rc 0 with stdout
"recorded-<argv0>" (a kubeconfig command prints GPVE_RECORDER_KUBECONFIG); any other module "changed".
"""

from __future__ import annotations

DOCUMENTATION = """
    name: guest_recorder
    short_description: record the modules given to a VM instead of running them (tests only)
    description: Records each module call as a JSON line and answers as a freshly booted Debian 12 VM would.
    author: gpve.cluster developers (@gpve)
    options:
        node:
            description: The Kubernetes node name of the host.
            vars:
                - name: inventory_hostname
                - name: kubeadm_node_name
                - name: k3s_node_name
                - name: rke2_node_name
                - name: k0s_node_name
        kubelet_version:
            description: The Kubernetes version the host's kubelet would run.
            default: ""
            vars:
                - name: kubeadm_kubernetes_version
                - name: k3s_kubernetes_version
                - name: rke2_kubernetes_version
                - name: k0s_kubernetes_version
"""

import ast
import base64
import fcntl
import hashlib
import json
import os
import re
import shlex

from ansible.plugins.connection import ConnectionBase

# systemd units whose start (or restart) starts the node's kubelet.
# (A k0s controller runs a kubelet only when installed with --enable-worker: its install command says so.)
KUBELET_UNITS = {"kubelet", "k3s", "k3s-agent", "rke2-server", "rke2-agent", "k0sworker"}
# Commands that start or upgrade a kubelet (argv[0] basename, argv[1] or None for any).
KUBELET_COMMANDS = {("kubeadm", "init"), ("kubeadm", "join"), ("k3s-install.sh", None)}
FACTS = {"ansible_swaptotal_mb": 0, "ansible_distribution": "Debian", "ansible_distribution_major_version": "12",
         "ansible_distribution_release": "bookworm", "ansible_os_family": "Debian", "ansible_architecture": "x86_64",
         "ansible_memtotal_mb": 2048, "ansible_processor_vcpus": 2, "ansible_pkg_mgr": "apt",
         "ansible_service_mgr": "systemd", "ansible_system": "Linux"}


def append(path: str, line: dict | None, raw: str = "") -> None:
    """One JSON line (or a raw one) under an exclusive lock: the hosts of a play record at the same time."""
    with open(path, "a", encoding="utf-8") as out:
        fcntl.flock(out, fcntl.LOCK_EX)
        out.write((raw if line is None else json.dumps(line, sort_keys=True)) + "\n")


# kubeadm's certificates and keys read back (the etcd client of the health checks): PEM-shaped, as such files are.
PEM_READ_BACK = {".crt": b"-----BEGIN CERTIFICATE-----\nZ3Vlc3QtcmVjb3JkZXI=\n-----END CERTIFICATE-----\n",
                 ".key": b"-----BEGIN PRIVATE KEY-----\nZ3Vlc3QtcmVjb3JkZXI=\n-----END PRIVATE KEY-----\n"}


def read_back(path: str = "") -> bytes:
    """What a file read back from a node holds: a certificate or key for kubeadm's PEM files, else the kubeconfig."""
    pem = PEM_READ_BACK.get(os.path.splitext(path or "")[1]) if str(path or "").startswith("/etc/kubernetes/pki/") else None
    if pem is not None:
        return pem
    with open(os.environ["GPVE_RECORDER_KUBECONFIG"], "rb") as kubeconfig:
        return kubeconfig.read()


def found_paths() -> list[str]:
    """The files find reported, across the forks of a run (a file beside the record)."""
    path = os.environ["GPVE_RECORDER_FILE"] + ".found"
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as found:
        return found.read().splitlines()


def module_call(payload: str) -> tuple[str, dict] | None:
    """(module name, arguments) of an AnsiballZ payload, or None for anything else."""
    if "_ansiballz_main(" not in payload:
        return None
    found = {}
    for key in ("ansible_module", "params"):
        match = re.search(rf"^{key}=(.*),$", payload, re.MULTILINE)
        if match is None:
            return None
        found[key] = ast.literal_eval(match.group(1))
    args = json.loads(found["params"]).get("ANSIBLE_MODULE_ARGS", {})
    return found["ansible_module"].rsplit(".", 1)[-1], args


class Connection(ConnectionBase):
    """Runs nothing; see the module docstring."""

    transport = "guest_recorder"
    has_pipelining = True
    always_pipeline_modules = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.record = os.environ["GPVE_RECORDER_FILE"]
        self.put = {}

    def _connect(self):
        self._connected = True
        return self

    def transport_test(self, connect_timeout):  # pylint: disable=unused-argument
        """wait_for_connection's first probe: the recorder always answers."""

    def put_file(self, in_path, out_path):
        with open(in_path, "rb") as source:
            self.put[out_path] = source.read()

    def fetch_file(self, in_path, out_path):
        with open(out_path, "wb") as out:
            out.write(read_back())

    def close(self):
        self._connected = False

    def host_name(self) -> str:
        return self._play_context.remote_addr if not self.get_option("node") else self.get_option("node")

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        payload = (in_data or b"").decode("utf-8", "replace")
        for path, content in self.put.items():
            if path in cmd and b"_ansiballz_main(" in content:
                payload = content.decode("utf-8", "replace")
        call = module_call(payload)
        if call is not None:
            environment = {key: value for key, value in re.findall(r"(?<![\w./-])([A-Z][A-Z0-9_]+)=([^\s;'\"]*)", cmd)
                           if not key.startswith(("LANG", "LC_"))}
            return 0, json.dumps(self.answer(*call, environment)).encode(), b""
        return self.raw(cmd)

    def raw(self, cmd: str):
        """The shell commands an action sends besides modules: the temporary directory, chmod, rm, scripts."""
        made = re.search(r'echo (ansible-tmp-[^=]+)="` echo ([^ `]+) `"', cmd)
        if made:
            return 0, f"{made.group(1)}={made.group(2)}\n".encode(), b""
        if re.search(r"\becho ~", cmd):
            return 0, b"/root\n", b""
        if not re.search(r"\b(chmod|chown|setfacl|rm -f -r)\b", cmd):
            for path, content in self.put.items():
                if path in cmd:
                    append(self.record, {"host": self.host_name(), "module": "script",
                                         "args": {"cmd": cmd, "content": content.decode("utf-8", "replace")}})
        return 0, b"", b""

    def answer(self, module: str, args: dict, environment: dict) -> dict:
        shown = {k: v for k, v in args.items() if not k.startswith("_ansible")}
        source = shown.get("src")
        if isinstance(source, str) and source in self.put and module in ("copy", "template"):
            shown["content"] = self.put[source].decode("utf-8", "replace")
        append(self.record, {"host": self.host_name(), "module": module, "args": shown, "environment": environment,
                             "no_log": bool(args.get("_ansible_no_log", False))})
        self.kubelet(module, shown)
        if module == "ping":
            return {"ping": "pong"}
        if module == "setup":
            return {"ansible_facts": dict(FACTS)}
        if module == "find":
            path = f"{shown['paths'][0]}/{shown.get('patterns', ['file'])[0].replace('*', '')}"
            append(os.environ["GPVE_RECORDER_FILE"] + ".found", None, raw=path)
            return {"changed": False, "matched": 1, "examined": 1, "files": [{"path": path, "mtime": 0, "size": 1}]}
        if module == "stat":
            if shown.get("path") not in found_paths():
                return {"changed": False, "stat": {"exists": False}}
            return {"changed": False, "stat": {"exists": True, "isdir": False, "isreg": True, "path": shown["path"],
                                               "checksum": hashlib.sha1(read_back()).hexdigest(), "size": len(read_back())}}
        if module == "slurp":
            return {"changed": False, "content": base64.b64encode(read_back(shown.get("src"))).decode(), "encoding": "base64",
                    "source": shown.get("src")}
        if module in ("command", "shell"):
            argv = shown.get("argv") or shlex.split(shown.get("_raw_params") or shown.get("cmd") or "true")
            if "kubeconfig" in argv:                       # k0s kubeconfig admin prints the admin kubeconfig
                printed = read_back().decode()
                return {"changed": True, "rc": 0, "cmd": argv, "stdout": printed, "stdout_lines": printed.splitlines(),
                        "stderr": "", "stderr_lines": []}
            return {"changed": True, "rc": 0, "cmd": argv, "stdout": f"recorded-{os.path.basename(argv[0])}",
                    "stdout_lines": [f"recorded-{os.path.basename(argv[0])}"], "stderr": "", "stderr_lines": []}
        return {"changed": True, "dest": shown.get("dest") or shown.get("path")}

    def has_kubelet(self) -> bool:
        """Whether the record started a kubelet on this node before."""
        with open(self.record, encoding="utf-8") as record:
            return any(line.get("step") == "kubelet" and line["data"]["kubelet"]["node"] == self.get_option("node")
                       for line in map(json.loads, record))

    def kubelet(self, module: str, args: dict) -> None:
        """Write the node stand-in's line when this call starts (or upgrades) the node's kubelet."""
        version = self.get_option("kubelet_version")
        starts = False
        if module in ("systemd_service", "systemd", "service"):
            starts = args.get("name") in KUBELET_UNITS and args.get("state") in ("started", "restarted")
            # A k0s controller restarted on a new release restarts the kubelet it runs, if it runs one.
            starts = starts or (args.get("name") == "k0scontroller" and args.get("state") == "restarted"
                                and self.has_kubelet())
        elif module == "command" and args.get("argv"):
            argv = args["argv"]
            starts = any(os.path.basename(argv[0]) == name and (word is None or argv[1:2] == [word])
                         for name, word in KUBELET_COMMANDS)
            starts = starts or (argv[:2] == ["k0s", "install"] and (argv[2:3] == ["worker"] or "--enable-worker" in argv))
        if starts and version:
            append(self.record, {"host": self.host_name(), "step": "kubelet",
                                 "data": {"kubelet": {"node": self.get_option("node"), "version": version}}})
