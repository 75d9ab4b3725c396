"""gpve_kubeadm_token run as Ansible runs it, with hostile arguments and hostile admin kubeconfigs: each run fails
naming the field before any connection - the kubeconfig's server is a listener here that counts the connections it
is offered, and none is (so no Secret, no Kubernetes object of any kind) - writes no file, and shows no secret of its
arguments or of the kubeconfig. No API server is needed: a run that got as far as connecting would be a failure of
the table, and the control run shows that it would be seen."""

from __future__ import annotations

import base64
import datetime
import socket
import threading

import pytest
import yaml

from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs
from hostile_support import expanded, files_under, refused_writing_nothing
from tests.as_a_user import ansible_cli

pytestmark = pytest.mark.roles

SECRET = "hunter2-kubeadm-token"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [" + ", ".join([f"*{chr(97 + n)}"] * 9) + "]\n" for n in range(8))


@pytest.fixture
def api_server():
    """(https URL, list of connections offered): a listener that accepts and closes every connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    offered = []

    def serve():
        while True:
            try:
                connection, _address = listener.accept()
            except OSError:
                return
            offered.append(connection.getpeername())
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}", offered
    listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() that close() alone would leave waiting
    listener.close()
    thread.join(5)


CA_DATA = base64.b64encode(certs.cert_pem(certs.new_ca("kubernetes", certs.utcnow(), datetime.timedelta(days=1)).cert)
                           .encode()).decode()


def admin_kubeconfig(server, **cluster):
    """An admin kubeconfig's text: server, the CA pinned as data unless cluster says otherwise, a token user."""
    entry = dict({"server": server, "certificate-authority-data": CA_DATA}, **cluster)
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "admin@lab",
                           "clusters": [{"name": "lab", "cluster": {k: v for k, v in entry.items() if v is not None}}],
                           "contexts": [{"name": "admin@lab", "context": {"cluster": "lab", "user": "admin"}}],
                           "users": [{"name": "admin", "user": {"token": SECRET + "-admin-token"}}]})


BASE = {"kubeconfig": "{sandbox}/admin.conf", "ttl": "1h", "description": "join lab-general-3"}

# (id, arguments over BASE, field named). A "text" argument is not the module's: it is written to the kubeconfig file
# (a callable gets the listener's URL), so that the kubeconfig's content is the hostile input.
CASES = [
    ("kubeconfig-absent", {"kubeconfig": "{sandbox}/absent.conf"}, "kubeconfig"),
    ("kubeconfig-directory", {"kubeconfig": "{sandbox}"}, "kubeconfig"),
    ("kubeconfig-device", {"kubeconfig": "/dev/null"}, "kubeconfig"),
    ("kubeconfig-under-a-file", {"kubeconfig": "{sandbox}/a-file/admin.conf"}, "kubeconfig"),
    ("kubeconfig-empty-path", {"kubeconfig": ""}, "kubeconfig"),
    ("kubeconfig-nul", {"kubeconfig": "{sandbox}/admin\x00.conf"}, "kubeconfig"),
    ("kubeconfig-not-yaml", {"text": "clusters: [unclosed"}, "kubeconfig"),
    ("kubeconfig-binary", {"text": b"\xff\xfe\x00kind"}, "kubeconfig"),
    ("kubeconfig-alias-bomb", {"text": lambda url: admin_kubeconfig(url) + "preferences:\n  " + BOMB.replace("\n", "\n  ")},
     "kubeconfig"),
    ("kubeconfig-huge", {"text": lambda url: admin_kubeconfig(url) + "preferences: {x: " + "x" * (1100 * 1024) + "}\n"},
     "kubeconfig"),
    ("kubeconfig-secret-kind", {"text": "kind: Secret\ndata: {}\n"}, "kubeconfig"),
    ("kubeconfig-clusters-mapping", {"text": "kind: Config\nclusters: {lab: {}}\n"}, "kubeconfig"),
    ("kubeconfig-no-current-context",
     {"text": lambda url: admin_kubeconfig(url).replace("current-context: admin@lab", "current-context: other")},
     "kubeconfig"),
    ("kubeconfig-no-ca", {"text": lambda url: admin_kubeconfig(url, **{"certificate-authority-data": None})}, "kubeconfig"),
    ("kubeconfig-ca-not-base64", {"text": lambda url: admin_kubeconfig(url, **{"certificate-authority-data": "%%%"})},
     "kubeconfig"),
    ("kubeconfig-ca-not-pem", {"text": lambda url: admin_kubeconfig(url, **{
        "certificate-authority-data": base64.b64encode(b"not a certificate").decode()})}, "kubeconfig"),
    ("kubeconfig-ca-file-missing", {"text": lambda url: admin_kubeconfig(url, **{
        "certificate-authority-data": None, "certificate-authority": "/nonexistent/ca.crt"})}, "kubeconfig"),
    ("kubeconfig-ca-file-secret", {"text": lambda url: admin_kubeconfig(url, **{
        "certificate-authority-data": None, "certificate-authority": "/etc/shadow"})}, "kubeconfig"),
    ("server-credentials", {"text": lambda url: admin_kubeconfig(url.replace("https://", f"https://admin:{SECRET}@"))},
     "kubeconfig"),
    ("server-plain-http", {"text": lambda url: admin_kubeconfig(url.replace("https://", "http://"))}, "kubeconfig"),
    ("server-file-url", {"text": lambda url: admin_kubeconfig("file:///etc/passwd")}, "kubeconfig"),
    ("server-no-host", {"text": lambda url: admin_kubeconfig("https://")}, "kubeconfig"),
    ("ttl-too-short", {"ttl": "59s"}, "ttl"),
    ("ttl-zero", {"ttl": "0s"}, "ttl"),
    ("ttl-negative", {"ttl": "-1h"}, "ttl"),
    ("ttl-days", {"ttl": "1d"}, "ttl"),
    ("ttl-over-a-week", {"ttl": "169h"}, "ttl"),
    ("ttl-huge", {"ttl": "9" * 30 + "h"}, "ttl"),
    ("ttl-empty", {"ttl": ""}, "ttl"),
    ("ttl-shell", {"ttl": "1h;id"}, "ttl"),
    ("description-newline", {"description": "join\nX-Injected: 1"}, "description"),
    ("description-escape", {"description": "join\x1b[2J"}, "description"),
    ("description-nul", {"description": "join\x00"}, "description"),
    ("description-huge", {"description": "d" * 300}, "description"),
    ("unknown-option", {"bogus": True}, "bogus"),
]


def write_kubeconfig(sandbox, url, text):
    text = text(url) if callable(text) else text
    (sandbox / "admin.conf").write_bytes(text if isinstance(text, bytes) else text.encode())


@pytest.mark.parametrize("args, field", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_input_fails_naming_the_field_before_any_connection(api_server, sandbox, tmp_path, args, field):
    url, offered = api_server
    args = dict(args)
    write_kubeconfig(sandbox, url, args.pop("text", admin_kubeconfig))
    refused_writing_nothing("gpve_kubeadm_token", dict(BASE, **args), tmp_path, field, str(tmp_path / "no-registry.db"),
                            sandbox, SECRET)
    assert not offered, "the module connected to the API server before refusing"


def test_without_a_hostile_input_the_run_connects_and_says_it_cannot_reach_the_server(api_server, sandbox, tmp_path):
    url, offered = api_server
    write_kubeconfig(sandbox, url, admin_kubeconfig)
    written = files_under(str(sandbox))
    result = ansible_cli.run_module("gpve_kubeadm_token", expanded(BASE, sandbox), tmp_path)
    assert offered, "the control run never reached the listener: the table's 'no connection' would prove nothing"
    assert result.get("failed") and "cannot be reached" in result["msg"], result
    assert files_under(str(sandbox)) == written and SECRET not in repr(result)
