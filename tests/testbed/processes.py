"""Detached processes with pidfiles: start, check, stop by pid, wait for readiness.

Every testbed process runs in its own session (``start_new_session``) so it outlives the
command that started it (``make testbed-up`` returns while the testbed keeps running).
A pidfile holds the pid and the process start time from ``/proc``: a recycled pid is
never mistaken for ours, so ``stop`` never signals a stranger.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Sequence


class ReadinessTimeout(RuntimeError):
    """A component did not become ready in time; the message names the log to read."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port the system reports free on host right now."""
    return free_ports([host])[0]


def free_ports(hosts: list[str]) -> list[int]:
    """One free TCP port per entry of hosts, all different: every probe socket stays bound until all are chosen.

    Ports asked for one at a time can repeat (a closed probe's port is free again): a stand-in testbed once gave
    kube-scheduler the API server's port, the scheduler exited on "address already in use", and its readiness
    probe passed anyway, answered by the API server's /healthz.
    """
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        for host in hosts:
            while True:
                probe = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                probe.bind((host, 0))
                port = probe.getsockname()[1]
                if port not in ports:  # the same number on another address would still meet a wildcard listener
                    ports.append(port)
                    break
        return ports


def _start_time(pid: int) -> str | None:
    """The process start time in clock ticks since boot (field 22 of /proc/pid/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; everything after its closing paren is fixed.
    return stat.rsplit(")", 1)[1].split()[19]


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def _reap(pid: int) -> None:
    """Collect our own child's exit status so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def start_detached(argv: Sequence[str], log_path: Path, pidfile: Path,
                   env: dict[str, str] | None = None, cwd: Path | None = None) -> int:
    """Start argv in a new session, stdout and stderr appended to log_path; writes the pidfile."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=env, cwd=cwd, start_new_session=True, close_fds=True)
    pidfile.write_text(json.dumps(identity(process.pid)))
    return process.pid


def identity(pid: int) -> dict:
    """What names one process for as long as it lives: its pid and its start time."""
    return {"pid": pid, "start": _start_time(pid)}


def is_alive(record: dict) -> bool:
    """True if the process that record (from identity()) names is still alive; a recycled pid is not."""
    start = record.get("start")
    return start is not None and _start_time(record["pid"]) == start and not _is_zombie(record["pid"])


def read_pid(pidfile: Path) -> int | None:
    """The pid in pidfile if that very process is still alive, else None."""
    try:
        record = json.loads(pidfile.read_text())
    except (OSError, ValueError):
        return None
    pid = record["pid"]
    if _start_time(pid) != record.get("start") or _is_zombie(pid):
        _reap(pid)
        return None
    return pid


def is_running(pidfile: Path) -> bool:
    return read_pid(pidfile) is not None


def stop(pidfile: Path, sig: int = signal.SIGTERM, timeout: float = 20.0) -> bool:
    """Signal the process of pidfile, wait for it to end (SIGKILL after timeout); True if it was running."""
    pid = read_pid(pidfile)
    if pid is None:
        pidfile.unlink(missing_ok=True)
        return False
    os.kill(pid, sig)
    if not _wait_gone(pidfile, timeout):
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pidfile, 5.0)
    pidfile.unlink(missing_ok=True)
    return True


def _wait_gone(pidfile: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if read_pid(pidfile) is None:
            return True
        time.sleep(0.05)
    return False


def wait_until(check: Callable[[], bool], timeout: float, what: str, log_path: Path | None = None,
               pidfile: Path | None = None, interval: float = 0.1) -> None:
    """Poll check() until it returns True; raise ReadinessTimeout (naming the log) otherwise.

    With a pidfile, stop early when the process died: its log says why.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not ready yet, whatever the client says
            pass
        if pidfile is not None and not is_running(pidfile):
            raise ReadinessTimeout(f"{what}: the process exited; see {log_path}")
        if time.monotonic() >= deadline:
            raise ReadinessTimeout(f"{what}: not ready after {timeout:.0f}s; see {log_path}")
        time.sleep(interval)
