"""A webhook receiver on 127.0.0.1, written as a user of the webhooks would write one.

It checks each delivery on its own (its own HMAC code, not gpve's): the signature over
``<id>.<timestamp>.<body>``, a timestamp within five minutes, and an id it has not seen
(replays are refused with 409). It can be told to answer 503 a few times first.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from requests.structures import CaseInsensitiveDict

TOLERANCE = 300


class Receiver:
    def __init__(self, secret):
        self.secret = secret.encode()
        self.seen = set()
        self.received = []      # every request: (status answered, headers (case-insensitive), body bytes)
        self.accepted = []      # parsed bodies of accepted deliveries
        self.fail_next = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.judge(CaseInsensitiveDict(self.headers.items()), body)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/gpve"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def judge(self, headers, body):
        with self.lock:
            status = self._verdict(headers, body)
            self.received.append((status, headers, body))
            return status

    def _verdict(self, headers, body):
        if self.fail_next > 0:
            self.fail_next -= 1
            return 503
        delivery, stamp, signature = headers.get("X-GPVE-Delivery", ""), headers.get("X-GPVE-Timestamp", ""), headers.get("X-GPVE-Signature", "")
        expected = "sha256=" + hmac.new(self.secret, f"{delivery}.{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return 401
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > TOLERANCE:
            return 400
        if delivery in self.seen:
            return 409
        self.seen.add(delivery)
        self.accepted.append(json.loads(body))
        return 200

    def send(self, headers, body):
        """POST body with headers to the receiver, as an attacker replaying a captured delivery would; returns the status."""
        kept = {key: value for key, value in headers.items() if key.lower().startswith("x-gpve-") or key.lower() == "content-type"}
        request = urllib.request.Request(self.url, data=body, headers=kept, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def close(self):
        self.server.shutdown()
        self.server.server_close()
