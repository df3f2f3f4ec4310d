"""The embedded cluster: start, idempotency, status, URL, and a clean stop."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import pytest
from click.testing import Result
from typer.testing import CliRunner

from gcrm import app
from geo.errors import ServerError
from geo.store import server

STARTERS = 3


def _our_postgres_processes(data_dir: Path) -> list[int]:
    """Process ids whose command line names ``data_dir`` (postmaster and its children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "postgres" in cmdline and str(data_dir) in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture
def home(state_home: Path, request: pytest.FixtureRequest) -> Path:
    path = state_home / f"own-{request.node.name}"
    yield path
    server.stop(path)


def test_start_is_idempotent_and_stop_leaves_no_process(home: Path) -> None:
    assert not server.status(home).initialised

    # Several app processes may start at once: one creates the cluster, all get its URL.
    with ThreadPoolExecutor(STARTERS) as pool:
        urls = set(pool.map(lambda _: server.start(home), range(STARTERS)))
    assert len(urls) == 1
    url = urls.pop()
    first = server.status(home)
    assert first.running and first.pid is not None
    again = server.start(home)
    assert again == url
    assert server.status(home).pid == first.pid

    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT current_database(), inet_server_addr()::text")
        assert cur.fetchone() == ("gcrm", "127.0.0.1/32")
    conn.close()
    assert list((home / "run").glob(".s.PGSQL.*")), "no unix socket in the state directory"

    assert _our_postgres_processes(first.data_dir)
    assert server.stop(home) is True
    assert not server.status(home).running
    assert _our_postgres_processes(first.data_dir) == []
    assert server.stop(home) is False


def test_restart_keeps_data_and_url(home: Path) -> None:
    url = server.start(home)
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)")
    conn.close()
    server.stop(home)
    assert server.url(home) == url
    assert server.start(home) == url
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT x FROM kept")
        assert cur.fetchone() == (7,)
    conn.close()


def test_url_before_start_is_refused(home: Path) -> None:
    with pytest.raises(ServerError, match="gcrm db start"):
        server.url(home)


def test_cli_start_status_url_stop(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCRM_HOME", str(home))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    # Once as a process, as a user runs it: the exit code reaches the shell.
    status = subprocess.run(
        [sys.executable, "-m", "gcrm", "db", "status"], capture_output=True, text=True, timeout=180
    )
    assert status.returncode == 3 and "not initialised" in status.stdout
    # Then in this process (the same commands, without importing gcrm again for each).
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args))

    started = run("db", "start")
    assert started.exit_code == 0, started.output
    assert "database ready" in started.stdout and "***" in started.stdout
    assert run("db", "status").stdout.startswith("running: pid ")
    url = run("db", "url").stdout.strip()
    app_url = run("db", "url", "--app").stdout.strip()
    assert url.startswith("postgresql://gcrm:") and app_url.startswith("postgresql://gcrm_app:")
    conn = psycopg2.connect(app_url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM regions WHERE level = 'county'")
        assert cur.fetchone()[0] > 3_100
    conn.close()
    stopped = run("db", "stop")
    assert stopped.exit_code == 0 and stopped.stdout.strip() == "stopped"
    assert _our_postgres_processes(home / "pgdata") == []
    assert run("db", "status").exit_code == 3


def test_restart_right_after_clients_disconnect_keeps_the_port(home: Path) -> None:
    url = server.start(home)
    for _ in range(5):
        conn = psycopg2.connect(url)
        with conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
        conn.close()
    server.stop(home)
    assert server.start(home) == url
