"""Benchmark: the Sales by region page in headless Chromium, time to first map and page weight.

Serves the app as ``make run`` does (``uvicorn serve:app``) on a free port against the
configured database (load the dataset first, e.g. ``gcrm demo --accounts 1000000 --replace``),
opens the page three times, signs in (as the demo admin unless told otherwise)
and prints, per visit, the seconds from submitting the sign-in form until the region
polygons are drawn and the bytes received (HTTP bodies as transferred, plus websocket
payloads, sign-in page included).

Usage::

    .venv/bin/python benchmarks/manager_page.py [--visits 3] [--settle 0] [--user U --password P]

Playwright drives the machine's Chromium; it comes with the dev and benchmark extras.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

PROJECT_DIR = Path(__file__).resolve().parent.parent
DRAW_TIMEOUT_S = 120
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking"]


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (its options are those the module docstring lists)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument(
        "--settle", type=float, default=0.0, help="Seconds to wait after start (the server warms its caches)."
    )
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin-demo")
    return parser


def main() -> None:
    """Serve the app, visit the page and print the figures."""
    args = build_parser().parse_args()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "serve:app", "--port", str(port), "--log-level", "warning"],
        cwd=PROJECT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url)
        time.sleep(args.settle)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            for visit in range(1, args.visits + 1):
                seconds, received = _visit(browser, f"{url}/region_map", args.user, args.password)
                print(f"visit {visit}: first map in {seconds:.2f} s, {received / 1e6:.2f} MB received")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    msg = "streamlit did not start"
    raise RuntimeError(msg)


def _visit(browser, url: str, user: str, password: str) -> tuple[float, int]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    received: list[int] = []
    page.on("requestfinished", lambda request: received.append(request.sizes()["responseBodySize"]))
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(len(payload))))
    page.goto(url)
    page.get_by_label("User name").fill(user, timeout=DRAW_TIMEOUT_S * 1000)
    page.get_by_role("textbox", name="Password").fill(password)
    started = time.perf_counter()
    page.get_by_role("button", name="Sign in").click()
    while sum(frame.locator("path.leaflet-interactive").count() for frame in page.frames) < 50:
        if time.perf_counter() - started > DRAW_TIMEOUT_S:
            msg = f"no map drawn within {DRAW_TIMEOUT_S} s"
            raise RuntimeError(msg)
        page.wait_for_timeout(50)
    seconds = time.perf_counter() - started
    page.wait_for_timeout(2_000)
    page.close()
    return seconds, sum(received)


if __name__ == "__main__":
    main()
