"""Kubernetes client benchmark: kube.connect's transport against the kubernetes library, import and request cost.

Why kube/transport.py exists rather than the library everywhere, measured (docs/architecture.md
quotes the figures). Each figure is the median of RUNS fresh interpreters:

- import: CPU and wall seconds to import what a module needs to talk to a cluster -
  kube.connect (ours) or kubernetes.client and kubernetes.config (the library);
- connect: building the client from the kubeconfig;
- request: CPU and wall milliseconds per GET /version, REQUESTS of them on one client.

The API server is the testbed's (``GPVE_TESTBED_KUBECONFIG``, as ``GPVE_TESTBED_ENV`` sets it)
when there is one, else a local plain-HTTP server in this process (then request figures
leave TLS out). The last line is ``ratio=`` the library's import + connect + REQUESTS
requests CPU over ours (above 1: ours is cheaper).

    python bench/kube_client.py [--runs 5] [--requests 200]
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMPORT_ROOT = REPO / ".build" / "collections"

PROBE = r'''
import json, sys, time
kind, path, requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
cpu, wall = time.process_time(), time.perf_counter()
if kind == "ours":
    from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
else:
    from kubernetes import client, config
imported = (time.process_time() - cpu, time.perf_counter() - wall)
cpu, wall = time.process_time(), time.perf_counter()
if kind == "ours":
    made = connect(host_kubeconfig=path)
    get = lambda: made.request("GET", "/version").data
else:
    made = config.new_client_from_config(config_file=path)
    get = lambda: made.call_api("/version", "GET", auth_settings=["BearerToken"], _preload_content=False,
                                _return_http_data_only=True).data
connected = (time.process_time() - cpu, time.perf_counter() - wall)
assert b"gitVersion" in get()
cpu, wall = time.process_time(), time.perf_counter()
for _ in range(requests):
    get()
asked = ((time.process_time() - cpu) / requests, (time.perf_counter() - wall) / requests)
made.close()
print(json.dumps({"import": imported, "connect": connected, "request": asked}))
'''


def local_server():
    """A plain-HTTP stand-in answering /version, and a kubeconfig with a token for it."""
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 - the http.server API
            body = json.dumps({"major": "1", "minor": "37", "gitVersion": "v1.37.2"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "bench",
              "clusters": [{"name": "bench", "cluster": {"server": url}}],
              "users": [{"name": "bench", "user": {"token": "bench"}}],
              "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": "bench"}}]}
    handle = tempfile.NamedTemporaryFile("w", suffix=".kubeconfig", delete=False)
    handle.write(json.dumps(config))
    handle.close()
    return server, handle.name


def probe(kind, kubeconfig, requests):
    env = dict(os.environ, PYTHONPATH=str(IMPORT_ROOT))
    out = subprocess.run([sys.executable, "-c", PROBE, kind, kubeconfig, str(requests)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def medians(samples, key):
    return tuple(statistics.median(sample[key][index] for sample in samples) for index in (0, 1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    kubeconfig, server = os.environ.get("GPVE_TESTBED_KUBECONFIG"), None
    if not kubeconfig:
        server, kubeconfig = local_server()
    print(f"server: {'testbed ' + kubeconfig if server is None else 'local plain HTTP'}; runs={args.runs} "
          f"requests={args.requests}; python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    totals = {}
    for kind in ("ours", "library"):
        samples = [probe(kind, kubeconfig, args.requests) for _run in range(args.runs)]
        imported, connected, asked = medians(samples, "import"), medians(samples, "connect"), medians(samples, "request")
        totals[kind] = imported[0] + connected[0] + asked[0] * args.requests
        print(f"{kind:8} import cpu={imported[0]:.3f}s wall={imported[1]:.3f}s  connect cpu={connected[0] * 1000:.1f}ms "
              f"wall={connected[1] * 1000:.1f}ms  request cpu={asked[0] * 1000:.2f}ms wall={asked[1] * 1000:.2f}ms")
    if server is not None:
        server.shutdown()
        os.unlink(kubeconfig)
    print(f"ratio={totals['library'] / totals['ours']:.2f}")


if __name__ == "__main__":
    main()
