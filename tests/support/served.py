"""The app served as ``make run`` serves it (``uvicorn serve:app``), in processes of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from geo.config import PROJECT_DIR, Settings

START_TIMEOUT_S = 60
"""How long a process may take to answer its health check."""
STOP_TIMEOUT_S = 30


@contextmanager
def served_apps(settings: Settings, logs: Path, *, count: int = 1) -> Iterator[list[str]]:
    """Serve the app on one database from ``count`` processes started at once, each on its own port.

    Parameters
    ----------
    settings
        The database and state directory every process uses.
    logs
        A folder for each process's output (``server-N.log``), shown when one does not start.
    count
        How many processes.

    Yields
    ------
    list of str
        Each process's base URL, once every one answers its health check.
    """
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "GCRM_HOME": str(settings.home),
        "GCRM_DATA_DIR": str(settings.data_dir),
        "GCRM_APP_PASSWORD": settings.app_password,
    }
    started = [_start(env, logs / f"server-{number}.log") for number in range(count)]
    try:
        for process, url, log in started:
            _wait_until_healthy(process, url, log)
        yield [url for _process, url, _log in started]
    finally:
        for process, _url, _log in started:
            process.terminate()
        for process, _url, _log in started:
            process.wait(timeout=STOP_TIMEOUT_S)


def _start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str, Path]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "serve:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--timeout-graceful-shutdown",
            "5",
        ],
        cwd=PROJECT_DIR,
        env=env,
        # A file, not a pipe: nobody reads a pipe while the tests run, and a full one blocks the server.
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}", log


def _wait_until_healthy(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"the app did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
