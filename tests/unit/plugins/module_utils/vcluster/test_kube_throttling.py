"""An API server that says "come back later" (429 or 5xx with Retry-After) is tried again after its wait.

The testbed's API server cannot be made to throttle on cue: its admin identity is exempt
from API Priority and Fairness. A small local HTTP server plays the throttling server here,
answering through the same transport and request code a module uses.
"""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.kube import resources as kube_resources
from ansible_collections.gpve.cluster.plugins.module_utils.kube import retry
from ansible_collections.gpve.cluster.plugins.module_utils.kube import transport
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeApiError
from ansible_collections.gpve.cluster.plugins.module_utils.kube.resources import Resources

pytestmark = pytest.mark.vcluster

NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}


class ScriptedServer:
    """Answers each request with the next (status, headers) of a script, then 200 with the namespace."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                owner.requests.append(self.path)
                status, headers = owner.script.pop(0) if owner.script else (200, {})
                body = json.dumps(NAMESPACE if status == 200 else {
                    "kind": "Status", "reason": "TooManyRequests", "message": "too many requests, please try again later"})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def _get(server, waits):
    client = transport.from_token(server.url, "token")
    client.sleep = waits.append
    try:
        return kube_resources.call_json(client, "GET", "/api/v1/namespaces/team-a", "Namespace team-a")
    finally:
        client.close()


def test_throttled_requests_are_tried_again_after_the_servers_wait():
    with ScriptedServer([(429, {"Retry-After": "1"}), (503, {"Retry-After": "2"})]) as server:
        waits = []
        answer = _get(server, waits)
    assert answer["metadata"]["name"] == "team-a"
    assert waits == [1, 2]
    assert len(server.requests) == 3


def test_the_wait_is_capped_and_the_retries_end_with_the_servers_message():
    script = [(429, {"Retry-After": "3600"})] * (retry.MAX_RETRIES + 1)
    with ScriptedServer(script) as server:
        waits = []
        with pytest.raises(KubeApiError) as raised:
            _get(server, waits)
    assert raised.value.status == 429
    assert "Namespace team-a: TooManyRequests: too many requests" in str(raised.value)
    assert waits == [retry.MAX_RETRY_AFTER] * retry.MAX_RETRIES
    assert len(server.requests) == retry.MAX_RETRIES + 1


@pytest.mark.parametrize("status, headers", [(429, {}), (500, {}), (403, {"Retry-After": "1"})])
def test_answers_that_do_not_ask_to_come_back_are_not_repeated(status, headers):
    with ScriptedServer([(status, headers)]) as server:
        waits = []
        with pytest.raises(KubeApiError):
            _get(server, waits)
    assert waits == [] and len(server.requests) == 1


def test_resources_reads_go_through_the_same_retry():
    with ScriptedServer([(429, {"Retry-After": "0"})]) as server:
        client = transport.from_token(server.url, "token")
        try:
            live = Resources(client).get("Namespace", "team-a")
        finally:
            client.close()
    assert live["metadata"]["name"] == "team-a"
    assert len(server.requests) == 2


def test_the_read_side_client_follows_the_same_policy():
    """kube.api (gpve_cluster_info's and gpve_external_cluster's reads), connected by kube.connect, waits and tries
    again, as writes do."""
    from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig
    from ansible_collections.gpve.cluster.plugins.module_utils.kube.api import ClusterApi
    from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect

    with ScriptedServer([(429, {"Retry-After": "1"}), (503, {"Retry-After": "2"}), (500, {})]) as server:
        connection = connect(kubeconfig=kubeconfig.build_kubeconfig(server.url, "throttled", "admin", token="token"))
        waits = []
        connection.sleep = waits.append
        with ClusterApi(connection) as client:
            with pytest.raises(KubeApiError) as raised:
                client.get_json("/api/v1/namespaces/team-a", what="Namespace team-a")
            assert client.get_json("/api/v1/namespaces/team-a")["metadata"]["name"] == "team-a"
    assert waits == [1, 2]
    assert raised.value.status == 500  # no Retry-After: final
    assert len(server.requests) == 4
