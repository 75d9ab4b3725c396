"""One testbed process: how to start it, how to tell it is ready, how to stop it.

A Component is plain data (argv, log, pidfile, readiness probe) so it round-trips through
the testbed record (``testbed.json``): a later process (``make testbed-down``, a pytest
session reusing a running testbed) stops or restarts it without knowing how it was built.
"""

from __future__ import annotations

import os
import signal
import ssl
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import processes


@dataclass
class Probe:
    """What "ready" means: an HTTP(S) GET answering 200 (with `expect` in the body), or a file existing."""

    url: str | None = None
    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    expect: str | None = None
    file: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __call__(self) -> bool:
        if self.file is not None:
            return Path(self.file).exists()
        return self._http_ok()

    def _http_ok(self) -> bool:
        context = None
        if self.url.startswith("https:"):
            context = ssl.create_default_context(cafile=self.ca)
            if self.cert:
                context.load_cert_chain(self.cert, self.key)
        request = urllib.request.Request(self.url, headers=self.headers)
        with urllib.request.urlopen(request, timeout=2, context=context) as answer:
            body = answer.read().decode()
        return answer.status == 200 and (self.expect is None or self.expect in body)


@dataclass
class Component:
    name: str
    argv: list[str]
    log: str
    pidfile: str
    probe: Probe
    ready_timeout: float = 60.0
    stop_signal: int = int(signal.SIGTERM)
    # Seconds from stop_signal to SIGKILL.
    stop_timeout: float = 20.0
    # Added to the environment of whoever starts it (only these are recorded, never the whole environment).
    env: dict[str, str] | None = None

    def start(self) -> int:
        """Start the process detached (no-op if it already runs) and return its pid; does not wait."""
        running = processes.read_pid(Path(self.pidfile))
        if running is not None:
            return running
        if self.probe.file:
            Path(self.probe.file).unlink(missing_ok=True)
        env = dict(os.environ, **self.env) if self.env else None
        return processes.start_detached(self.argv, Path(self.log), Path(self.pidfile), env=env)

    def wait_ready(self) -> None:
        processes.wait_until(self.probe, self.ready_timeout, self.name, Path(self.log), Path(self.pidfile))

    def ready(self) -> bool:
        try:
            return self.probe()
        except Exception:  # noqa: BLE001 - any failure to answer means not ready
            return False

    def running(self) -> bool:
        return processes.is_running(Path(self.pidfile))

    def pid(self) -> int | None:
        return processes.read_pid(Path(self.pidfile))

    def stop(self) -> bool:
        return processes.stop(Path(self.pidfile), sig=self.stop_signal, timeout=self.stop_timeout)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Component":
        values = dict(data)
        values["probe"] = Probe(**values["probe"])
        return cls(**values)
