"""A private PostgreSQL server for Pulumi's diy PostgreSQL state backend, from the distribution's binaries.

`initdb` in a temporary folder (password authentication, `scram-sha-256`, a generated password), the
server on a free loopback port and nowhere else, started and stopped by its PID: no system service,
nothing left behind. The tests and the benchmark use it as the shared backend a team would run.

The password never appears in a URL, a command line or a message: the backend URL names the user,
host, port and database only, and the CLI's PostgreSQL driver (lib/pq) takes the password from
`PGPASSWORD`, as `psql` does (README: State for a team).
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# Where Debian's `postgresql` package puts its server binaries (none of them is on PATH there).
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
USER = "pulumi"
# The diy backend's table (its default name; `?table=` in the URL changes it).
STATE_TABLE = "pulumi_state"
# PostgreSQL refuses to run as root; as root (CI containers), the server runs as the distribution's
# `postgres` account, which the package creates.
SYSTEM_ACCOUNT = "postgres"


class PostgresError(RuntimeError):
    """A PostgreSQL command failed; its message never carries the password."""


def server_bin() -> Path:
    """The folder of `initdb`, `postgres`, `psql`, `pg_isready` and `pg_dump`: Debian's newest major
    version, else the ones on PATH (a laptop's Homebrew or distribution package)."""
    candidates = sorted(Path("/").glob(DEBIAN_BIN_GLOB.lstrip("/")), key=lambda p: int(p.parent.name), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if all((folder / tool).exists() for tool in ("initdb", "postgres", "psql", "pg_isready", "pg_dump")):
            return folder
    raise PostgresError(
        "no PostgreSQL server binaries (initdb, postgres): install the `postgresql` package "
        "(Debian: apt-get install -y --no-install-recommends postgresql; README: Install)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(port: int) -> bool:
    """Whether anything accepts connections on 127.0.0.1:`port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def group_alive(pgid: int) -> bool:
    """Whether any process of the process group `pgid` is alive (zombies of our own children aside)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    listing = subprocess.run(["ps", "-A", "-o", "pgid=,stat="], capture_output=True, text=True, check=True)
    return any(
        int(row.split()[0]) == pgid and not row.split()[1].startswith("Z") for row in listing.stdout.splitlines()
    )


@dataclass
class PostgresServer:
    """One private PostgreSQL cluster. `start()` once; `kill()` and `restart()` for the fault tests;
    `stop()` always (it also removes the data)."""

    bin_dir: Path
    root: Path
    port: int
    # Out of the repr, which pytest prints with --showlocals.
    password: str = field(repr=False)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    # Every process group the server ran as (one per start), checked empty by `stop()`.
    groups: list[int] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _as_server_account(self) -> dict[str, str]:
        return {"user": SYSTEM_ACCOUNT, "group": SYSTEM_ACCOUNT} if os.geteuid() == 0 else {}

    def redact(self, text: str) -> str:
        """`text` with the password masked, for any message that quotes a command's output."""
        return text.replace(self.password, "***") if self.password else text

    def client_env(self) -> dict[str, str]:
        """What a client needs besides the URL: the password, by the variable libpq and lib/pq read."""
        return {"PGPASSWORD": self.password}

    def url(self, database: str, *, sslmode: str = "disable") -> str:
        """The backend URL of `database`: no password in it (it is in `client_env()`). Loopback only, so
        no TLS here; a shared server is reached with sslmode=verify-full (README: State for a team)."""
        return f"postgres://{USER}@127.0.0.1:{self.port}/{database}?sslmode={sslmode}"

    def initdb(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        password_file = self.root / "password"
        password_file.write_text(self.password)
        password_file.chmod(0o600)
        if os.geteuid() == 0:
            shutil.chown(self.root, SYSTEM_ACCOUNT, SYSTEM_ACCOUNT)
            shutil.chown(password_file, SYSTEM_ACCOUNT, SYSTEM_ACCOUNT)
        try:
            self._run_server_tool(
                "initdb",
                "--pgdata",
                str(self.data_dir),
                "--username",
                USER,
                "--pwfile",
                str(password_file),
                "--auth",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-instructions",
            )
        finally:
            password_file.unlink(missing_ok=True)

    def _run_server_tool(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [str(self.bin_dir / tool), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            **self._as_server_account(),  # type: ignore[arg-type]
        )
        if result.returncode != 0:
            raise PostgresError(f"{tool} failed (exit {result.returncode}):\n{self.redact(result.stderr)[-2000:]}")

    def start(self, timeout: float = 60) -> None:
        """Starts the server on the data folder (after a kill: with crash recovery) and waits until it
        accepts connections."""
        assert self.process is None or self.process.poll() is not None, "the server is running"
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(self.bin_dir / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"port={self.port}",
                    # No Unix socket: the clients connect over TCP with the password, as a team's would.
                    "-c",
                    "unix_socket_directories=",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                # A process group of its own: a kill takes the postmaster and all its backends, as a
                # crash of the machine would, and nothing of it is signalled with the tests' group.
                start_new_session=True,
                **self._as_server_account(),  # type: ignore[arg-type]
            )
        self.groups.append(self.process.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PostgresError(f"postgres exited ({self.process.returncode}) on start:\n{self.log_tail()}")
            ready = subprocess.run(
                [str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-q"],
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise PostgresError(f"postgres did not accept connections within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return self.redact("\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:]))
        except OSError:
            return "(no server log)"

    def kill(self) -> None:
        """SIGKILL of the server and every backend process: what an OOM kill or a lost machine does."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._wait_gone(self.process.pid, timeout=30)

    def shut_down(self, timeout: float = 60) -> None:
        """A fast shutdown (SIGINT: clients disconnected, transactions rolled back), as a restart
        for maintenance or a failover does; SIGKILL if it takes longer than `timeout`."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._wait_gone(self.process.pid, timeout=timeout)

    def restart(self) -> None:
        self.shut_down()
        self.start()

    def _wait_gone(self, pgid: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while group_alive(pgid):
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
                raise PostgresError(f"processes of the server (group {pgid}) still alive after {timeout:.0f} s")
            time.sleep(0.1)

    def leftovers(self) -> list[str]:
        """What of the server is still there: a live process of any of its groups, its port open."""
        found = [f"a process of group {pgid}" for pgid in self.groups if group_alive(pgid)]
        if port_open(self.port):
            found.append(f"a listener on 127.0.0.1:{self.port}")
        return found

    def stop(self) -> None:
        """Stops the server by its PID (fast shutdown, then SIGKILL) and removes its data."""
        try:
            self.shut_down()
        finally:
            for pgid in self.groups:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pgid, signal.SIGKILL)
            shutil.rmtree(self.root, ignore_errors=True)

    def psql(self, database: str, sql: str, timeout: float = 60) -> str:
        """Runs `sql` in `database` (unaligned, tuples only); its output, or PostgresError."""
        result = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "--no-psqlrc",
                "--quiet",
                "--tuples-only",
                "--no-align",
                "--set",
                "ON_ERROR_STOP=1",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--username",
                USER,
                "--dbname",
                database,
                "--command",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            env={**os.environ, **self.client_env()},
        )
        if result.returncode != 0:
            raise PostgresError(f"psql failed (exit {result.returncode}): {self.redact(result.stderr).strip()}")
        return result.stdout

    def pg_dump(self, database: str) -> str:
        """A plain-SQL backup of `database`, as `pg_dump` makes it."""
        result = subprocess.run(
            [str(self.bin_dir / "pg_dump"), "--host=127.0.0.1", f"--port={self.port}", f"--username={USER}", database],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={**os.environ, **self.client_env()},
        )
        if result.returncode != 0:
            raise PostgresError(f"pg_dump failed (exit {result.returncode}): {self.redact(result.stderr).strip()}")
        return result.stdout

    def create_database(self, name: str) -> None:
        assert name.isidentifier() and name.islower(), f"not a plain database name: {name!r}"
        self.psql("postgres", f"CREATE DATABASE {name}")

    def blobs(self, database: str, prefix: str = "") -> dict[str, bytes]:
        """The diy backend's objects in `database` (its state table's rows), key -> content.

        The backend keeps each object (a stack's checkpoint, its backups and history, a lock) as a
        row: the key is the path the file backend would use, the data `{"data": <base64>}`."""
        exists = self.psql(database, f"SELECT to_regclass('{STATE_TABLE}') IS NOT NULL").strip()
        if exists != "t":
            return {}
        rows = self.psql(
            database,
            f"SELECT key || ' ' || (data->>'data') FROM {STATE_TABLE} WHERE starts_with(key, '{prefix}') ORDER BY key",
        )
        found = {}
        for row in rows.splitlines():
            key, _, encoded = row.partition(" ")
            found[key] = base64.b64decode(encoded)
        return found


@contextmanager
def postgres_server(bin_dir: Path | None = None) -> Iterator[PostgresServer]:
    """A started private server; stopped and removed afterwards whatever happened, and checked gone
    (no process of it alive, nothing listening on its port)."""
    # Not under a 0700 folder of the caller's (pytest's tmp_path): with root, the server account must
    # reach it.
    root = Path(tempfile.mkdtemp(prefix="flask-pg-"))
    password = secrets.token_hex(24)
    server = PostgresServer(bin_dir=bin_dir or server_bin(), root=root, port=free_port(), password=password)
    try:
        server.initdb()
        server.start()
        yield server
    finally:
        server.stop()
    left = server.leftovers()
    if left:
        raise PostgresError(f"the PostgreSQL server outlived its stop: {', '.join(left)}")
