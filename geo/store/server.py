"""The embedded default database: a private PostGIS cluster under the state directory.

Layout of the state directory (``GCRM_HOME``, default ``.gcrm/``)::

    pgdata/        the cluster (owned by the ``postgres`` user when run as root)
    server.json    port, socket directory and superuser password
    server.lock    held while a process creates or starts the cluster
    postgres.log   the server's log

The cluster listens on ``127.0.0.1`` (password auth) and on a unix socket that
only its owner can open. PostgreSQL refuses to run as root, so as root every
server command runs as the ``postgres`` system user.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql

from geo.errors import ServerError

SUPERUSER = "gcrm"
DATABASE = "gcrm"
SYSTEM_USER = "postgres"
START_TIMEOUT_S = 60
SHARED_BUFFERS_SHARE = 4
"""The server's page cache is a quarter of the machine's memory (PostgreSQL's usual advice)…"""
SHARED_BUFFERS_MB = (128, 4096)
"""… and at least PostgreSQL's default, at most 4 GB (a 1M-account book and its indexes fit)."""
_SOCKET_PATH_MAX = 100


@dataclass(frozen=True)
class ServerStatus:
    """What ``gcrm db status`` reports.

    Attributes
    ----------
    initialised
        Whether the cluster directory exists.
    running
        Whether the server is up.
    pid
        The postmaster's process id when running.
    port
        The TCP port on 127.0.0.1.
    data_dir
        The cluster directory.
    """

    initialised: bool
    running: bool
    pid: int | None
    port: int | None
    data_dir: Path


def start(home: Path) -> str:
    """Start the private cluster under ``home``, creating it first if needed.

    Idempotent: a running cluster is left as it is. Processes starting it at once take
    turns (a lock file in ``home``): one creates and starts the cluster, the others find it running.

    Parameters
    ----------
    home
        The state directory.

    Returns
    -------
    str
        The owner (superuser) URL of the ``gcrm`` database.
    """
    with _start_lock(home):
        config = _init_cluster(home)
        if not _is_running(home):
            config = _ensure_free_port(home, config)
            _start_postmaster(home, config)
        _create_database(config)
    return _url(config, DATABASE)


def stop(home: Path) -> bool:
    """Stop the private cluster under ``home`` and wait until it has exited.

    Parameters
    ----------
    home
        The state directory.

    Returns
    -------
    bool
        True when a running server was stopped, False when none was running.
    """
    if not _is_running(home):
        return False
    result = _pg_ctl(home, "stop", "-m", "fast", "-w", "-t", str(START_TIMEOUT_S))
    if result.returncode != 0:
        msg = f"Could not stop the embedded PostgreSQL in {_data_dir(home)}: {result.stderr.strip()}"
        raise ServerError(msg)
    return True


def status(home: Path) -> ServerStatus:
    """Report whether the private cluster under ``home`` exists and runs.

    Parameters
    ----------
    home
        The state directory.

    Returns
    -------
    ServerStatus
        The cluster's state.
    """
    data_dir = _data_dir(home)
    config = _read_config(home)
    running = _is_running(home)
    return ServerStatus(
        initialised=(data_dir / "PG_VERSION").exists(),
        running=running,
        pid=_postmaster_pid(home) if running else None,
        port=config["port"] if config else None,
        data_dir=data_dir,
    )


def url(home: Path) -> str:
    """Return the owner URL of the cluster under ``home`` without starting it.

    Parameters
    ----------
    home
        The state directory.

    Returns
    -------
    str
        The owner URL of the ``gcrm`` database.
    """
    config = _read_config(home)
    if config is None:
        msg = f"No embedded database in {home}; run `gcrm db start` first."
        raise ServerError(msg)
    return _url(config, DATABASE)


def postgres_bin_dir() -> Path:
    """Locate the server binaries (``initdb``, ``pg_ctl``) of the newest installed PostgreSQL.

    Returns
    -------
    Path
        The directory holding ``initdb`` and ``pg_ctl``.
    """
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    msg = "PostgreSQL server binaries (initdb, pg_ctl) not found; run `make setup` to install them."
    raise ServerError(msg)


@contextmanager
def _start_lock(home: Path) -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    with (home / "server.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _data_dir(home: Path) -> Path:
    return home / "pgdata"


def _config_path(home: Path) -> Path:
    return home / "server.json"


def _read_config(home: Path) -> dict | None:
    path = _config_path(home)
    if not path.exists():
        return None
    return json.loads(path.read_text())


def _url(config: dict, database: str) -> str:
    return f"postgresql://{SUPERUSER}:{config['password']}@127.0.0.1:{config['port']}/{database}"


def _as_root() -> bool:
    return os.geteuid() == 0


def _run_as_server_user(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", SYSTEM_USER, "--"] if _as_root() else []
    return subprocess.run(prefix + args, capture_output=True, text=True, check=False, **kwargs)


def _pg_ctl(home: Path, *args: str) -> subprocess.CompletedProcess:
    return _run_as_server_user([str(postgres_bin_dir() / "pg_ctl"), "-D", str(_data_dir(home)), *args])


def _is_running(home: Path) -> bool:
    if not (_data_dir(home) / "PG_VERSION").exists():
        return False
    return _pg_ctl(home, "status").returncode == 0


def _postmaster_pid(home: Path) -> int | None:
    pid_file = _data_dir(home) / "postmaster.pid"
    try:
        return int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _socket_dir(home: Path) -> Path:
    candidate = home / "run"
    if len(str(candidate)) + len("/.s.PGSQL.65535") <= _SOCKET_PATH_MAX:
        return candidate
    digest = hashlib.sha256(str(home).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"gcrm-{digest}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As PostgreSQL binds: connections of a just-stopped server in TIME_WAIT do not hold the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _hand_to_server_user(path: Path) -> None:
    """As root, give ``path`` to the server user and let it traverse every ancestor."""
    if not _as_root():
        return
    try:
        server_user = pwd.getpwnam(SYSTEM_USER)
    except KeyError as exc:
        msg = f"The system user {SYSTEM_USER!r} does not exist; run `make setup` to install PostgreSQL."
        raise ServerError(msg) from exc
    os.chown(path, server_user.pw_uid, server_user.pw_gid)
    for ancestor in path.parents:
        mode = ancestor.stat().st_mode
        if not mode & stat.S_IXOTH:
            os.chmod(ancestor, mode | stat.S_IXOTH)
            print(f"gcrm: allowed the {SYSTEM_USER} user to traverse {ancestor} (o+x) to reach its data")


def shared_buffers_mb() -> int:
    """The embedded server's page cache in MB: a quarter of the memory, within :data:`SHARED_BUFFERS_MB`.

    PostgreSQL's default (128 MB) holds an eighth of a 1M-account book: a campaign drawn
    on a large county then reads most of its accounts' pages from the operating system on
    every count. Memory is only taken as pages are read.

    Returns
    -------
    int
        Megabytes.
    """
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    low, high = SHARED_BUFFERS_MB
    return int(min(max(memory_mb // SHARED_BUFFERS_SHARE, low), high))


def _init_cluster(home: Path) -> dict:
    data_dir = _data_dir(home)
    config = _read_config(home)
    if config is not None and (data_dir / "PG_VERSION").exists():
        return config
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o700 if not _as_root() else 0o711)
    data_dir.mkdir(mode=0o700, exist_ok=True)
    _hand_to_server_user(data_dir)
    config = {"port": _free_port(), "password": secrets.token_urlsafe(24)}
    with tempfile.NamedTemporaryFile("w", dir=home, delete=False) as pwfile:
        pwfile.write(config["password"] + "\n")
    try:
        _hand_to_server_user(Path(pwfile.name))
        result = _run_as_server_user(
            [
                str(postgres_bin_dir() / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                SUPERUSER,
                "--pwfile",
                pwfile.name,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
            ]
        )
    finally:
        os.unlink(pwfile.name)
    if result.returncode != 0:
        msg = f"initdb failed in {data_dir}: {result.stderr.strip() or result.stdout.strip()}"
        raise ServerError(msg)
    _write_config(home, config)
    return config


def _write_config(home: Path, config: dict) -> None:
    path = _config_path(home)
    path.write_text(json.dumps(config))
    os.chmod(path, 0o600)


def _ensure_free_port(home: Path, config: dict) -> dict:
    if _port_is_free(config["port"]):
        return config
    config = {**config, "port": _free_port()}
    _write_config(home, config)
    return config


def _start_postmaster(home: Path, config: dict) -> None:
    socket_dir = _socket_dir(home)
    socket_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _hand_to_server_user(socket_dir)
    log = home / "postgres.log"
    log.touch()
    _hand_to_server_user(log)
    options = (
        f"-p {config['port']} -k {socket_dir} -c listen_addresses=127.0.0.1 -c unix_socket_permissions=0700"
        f" -c shared_buffers={shared_buffers_mb()}MB"
    )
    result = _pg_ctl(home, "start", "-w", "-t", str(START_TIMEOUT_S), "-l", str(log), "-o", options)
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-10:])
        msg = f"The embedded PostgreSQL did not start (log {log}):\n{tail}"
        raise ServerError(msg)


def _create_database(config: dict) -> None:
    conn = psycopg2.connect(_url(config, "postgres"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    finally:
        conn.close()
