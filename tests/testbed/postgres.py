"""A throwaway PostgreSQL: Debian's real server in a temp dir, trust auth on loopback.

PostgreSQL refuses to run as root, so when we are root the server's own tools run as the
``postgres`` user and everything it writes lives in a directory that user owns.
``start_postgres`` returns once the server accepts connections; the postmaster runs in its
own session, so it outlives the caller (``make testbed-up``) until ``stop()``.

Pytest wiring (loaded from tests/conftest.py):

- ``pg_dsn`` (session): the server's admin DSN. ``GPVE_TESTBED_PG_DSN`` names an existing
  server to use instead; otherwise one is started for the session and stopped at its end.
- ``pg_database`` (function): the DSN of a fresh, empty database dropped after the test.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from .processes import free_port

SERVER_USER = "postgres"
STATE_FILE = "postgres.json"
BIN_GLOB = "/usr/lib/postgresql/*/bin/initdb"
# Enough for 50 concurrent test processes, a benchmark's writers and the fixtures' own sessions.
MAX_CONNECTIONS = 200
START_TIMEOUT_S = 60


class PostgresError(RuntimeError):
    """The throwaway server could not be set up, started or stopped; the message says why."""


@dataclass
class PostgresInstance:
    """A running throwaway server. ``state_dir/postgres.json`` holds the same fields."""

    dsn: str
    pid: int
    port: int
    data_dir: Path
    socket_dir: Path
    log_path: Path
    bin_dir: Path
    state_dir: Path
    owns_root: Path  # the directory start_postgres created for the server (removed by stop)

    def stop(self, remove_data: bool = True) -> None:
        """Stop the server (fast shutdown), by the pid it runs under; then remove its files."""
        if _alive(self.pid):
            _run_as_server([str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast", "-w",
                            "-t", str(START_TIMEOUT_S)], check=False)
        if _alive(self.pid):
            os.kill(self.pid, signal.SIGKILL)
            _wait(lambda: not _alive(self.pid), 10, "postgres to exit after SIGKILL")
        (self.state_dir / STATE_FILE).unlink(missing_ok=True)
        if remove_data:
            shutil.rmtree(self.owns_root, ignore_errors=True)

    def save(self) -> None:
        record = {key: str(value) if isinstance(value, Path) else value for key, value in asdict(self).items()}
        (self.state_dir / STATE_FILE).write_text(json.dumps(record, indent=2))

    @classmethod
    def load(cls, state_dir: Path) -> PostgresInstance | None:
        """The instance recorded in state_dir if its server is still running, else None."""
        try:
            record = json.loads((Path(state_dir) / STATE_FILE).read_text())
        except (OSError, ValueError):
            return None
        for key in ("data_dir", "socket_dir", "log_path", "bin_dir", "state_dir", "owns_root"):
            record[key] = Path(record[key])
        instance = cls(**record)
        return instance if _postmaster_pid(instance.data_dir) == instance.pid and _alive(instance.pid) else None


def start_postgres(state_dir: Path, port: int | None = None) -> PostgresInstance:
    """Initialise and start a server on 127.0.0.1:port (a free one when None).

    state_dir keeps the record of the instance; the server's files go under it when the
    ``postgres`` user can reach it, else in a fresh directory under the system temp dir.
    """
    state_dir = Path(state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    running = PostgresInstance.load(state_dir)
    if running is not None:
        return running
    bin_dir = _bin_dir()
    root = _server_root(state_dir)
    data_dir, socket_dir, log_path = root / "data", root / "run", root / "postgres.log"
    socket_dir.mkdir()
    _give_to_server(root)
    _initdb(bin_dir, data_dir)
    port = port or free_port()
    _pg_ctl_start(bin_dir, data_dir, socket_dir, log_path, port)
    instance = PostgresInstance(
        dsn=f"postgresql://{SERVER_USER}@127.0.0.1:{port}/postgres", pid=_postmaster_pid(data_dir), port=port,
        data_dir=data_dir, socket_dir=socket_dir, log_path=log_path, bin_dir=bin_dir, state_dir=state_dir,
        owns_root=root)
    instance.save()
    return instance


def create_database(admin_dsn: str, prefix: str = "test") -> str:
    """Create an empty database with a unique name; return its DSN."""
    import psycopg  # the testbed's client; imported late so collecting tests never needs it

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(admin_dsn, name)


def drop_database(admin_dsn: str, dsn: str) -> None:
    """Drop the database dsn names, disconnecting whoever is still connected to it."""
    import psycopg

    name = urlsplit(dsn).path.lstrip("/")
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_dsn(tmp_path_factory):
    """Admin DSN of a PostgreSQL server for the whole session."""
    external = os.environ.get("GPVE_TESTBED_PG_DSN")
    if external:
        yield external
        return
    instance = start_postgres(tmp_path_factory.mktemp("postgres"))
    try:
        yield instance.dsn
    finally:
        instance.stop()


@pytest.fixture
def pg_database(pg_dsn):
    """DSN of a fresh database of its own for one test, dropped afterwards."""
    dsn = create_database(pg_dsn)
    try:
        yield dsn
    finally:
        drop_database(pg_dsn, dsn)


def _bin_dir() -> Path:
    found = sorted(Path("/").glob(BIN_GLOB.lstrip("/")), key=lambda path: int(path.parts[-3]))
    if not found:
        raise PostgresError(f"no PostgreSQL server binaries at {BIN_GLOB}; run `make system-deps`")
    return found[-1].parent


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _run_as_server(argv: list[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    if _running_as_root():
        argv = ["runuser", "-u", SERVER_USER, "--"] + argv
    result = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if check and result.returncode != 0:
        raise PostgresError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")
    return result


def _server_root(state_dir: Path) -> Path:
    """A new directory the server user can own: under state_dir if reachable, else in the temp dir."""
    parent = state_dir if _server_can_enter(state_dir) else Path(tempfile.gettempdir())
    return Path(tempfile.mkdtemp(prefix="gpve-pg-", dir=parent))


def _server_can_enter(path: Path) -> bool:
    if not _running_as_root():
        return True
    return _run_as_server(["test", "-x", str(path)], check=False).returncode == 0


def _give_to_server(root: Path) -> None:
    if not _running_as_root():
        return
    server = pwd.getpwnam(SERVER_USER)
    for path in [root, *root.rglob("*")]:
        os.chown(path, server.pw_uid, server.pw_gid)
    root.chmod(0o700)


def _initdb(bin_dir: Path, data_dir: Path) -> None:
    _run_as_server([str(bin_dir / "initdb"), "-D", str(data_dir), "-U", SERVER_USER, "--auth=trust",
                    "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"], cwd="/")


def _pg_ctl_start(bin_dir: Path, data_dir: Path, socket_dir: Path, log_path: Path, port: int) -> None:
    server_options = (f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 "
                      f"-c max_connections={MAX_CONNECTIONS} -c unix_socket_permissions=0700")
    argv = [str(bin_dir / "pg_ctl"), "start", "-D", str(data_dir), "-l", str(log_path), "-w",
            "-t", str(START_TIMEOUT_S), "-o", server_options]
    # A session of its own: the postmaster outlives the caller and its process group.
    result = _run_as_server(argv, check=False, cwd="/", start_new_session=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise PostgresError(f"pg_ctl start failed: {result.stderr.strip()}; log: {_tail(log_path)}")


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise PostgresError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text().splitlines()[-lines:])
    except OSError:
        return "(no log)"
