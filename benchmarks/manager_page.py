"""Benchmark: the Sales by region page in headless Chromium, time to first map and page weight.

Serves the app as ``make run`` does (``uvicorn serve:app``) on a free port against the
configured database (load the dataset first, e.g. ``gcrm demo --accounts 1000000 --replace``),
opens the page three times, signs in (as the demo admin unless told otherwise)
and prints, per visit, the seconds from submitting the sign-in form until the region
polygons are drawn and the bytes received (HTTP bodies as transferred, plus websocket
payloads, sign-in page included). With ``--measure``, each visit then picks that measure
(its label, e.g. "Customers per 1,000 households") and prints the seconds and bytes until
the map is drawn again with its legend.

Usage::

    .venv/bin/python benchmarks/manager_page.py [--visits 3] [--settle 0] [--user U --password P]
    .venv/bin/python benchmarks/manager_page.py --measure LABEL

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

from playwright.sync_api import Error as PlaywrightError
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
    parser.add_argument("--measure", help="A measure's label to pick after the first map.")
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
                timings = _visit(browser, f"{url}/region_map", args.user, args.password, args.measure)
                print(
                    f"visit {visit}: first map in {timings[0]:.2f} s, {timings[1] / 1e6:.2f} MB received"
                    + (
                        f"; {args.measure} in {timings[2]:.2f} s, {timings[3] / 1e6:.2f} MB"
                        if args.measure
                        else ""
                    )
                )
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


def _visit(browser, url: str, user: str, password: str, measure: str | None) -> tuple[float, int, float, int]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    received: list[int] = []
    page.on("requestfinished", lambda request: received.append(request.sizes()["responseBodySize"]))
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(len(payload))))
    page.goto(url)
    page.get_by_label("User name").fill(user, timeout=DRAW_TIMEOUT_S * 1000)
    page.get_by_role("textbox", name="Password").fill(password)
    started = time.perf_counter()
    page.get_by_role("button", name="Sign in").click()
    _wait_until(page, started, lambda: _count(page, "path.leaflet-interactive") >= 50)
    seconds = time.perf_counter() - started
    page.wait_for_timeout(2_000)
    first_bytes = sum(received)
    measure_seconds = 0.0
    if measure:
        page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=DRAW_TIMEOUT_S * 1000)
        page.get_by_label("Measure", exact=True).click()
        measure_started = time.perf_counter()
        page.get_by_role("option", name=measure, exact=True).click()
        _wait_until(
            page,
            measure_started,
            lambda: (
                any(measure in text for text in _texts(page, ".gcrm-legend"))
                and _count(page, "path.leaflet-interactive") >= 50
            ),
        )
        measure_seconds = time.perf_counter() - measure_started
        page.wait_for_timeout(2_000)
    page.close()
    return seconds, first_bytes, measure_seconds, sum(received) - first_bytes


def _wait_until(page, started: float, drawn) -> None:
    while not drawn():
        if time.perf_counter() - started > DRAW_TIMEOUT_S:
            msg = f"no map drawn within {DRAW_TIMEOUT_S} s"
            raise RuntimeError(msg)
        page.wait_for_timeout(50)


def _count(page, selector: str) -> int:
    return sum(_gathered(page, lambda frame: [frame.locator(selector).count()]))


def _texts(page, selector: str) -> list[str]:
    return _gathered(page, lambda frame: frame.locator(selector).all_inner_texts())


def _gathered(page, read) -> list:
    """The lists ``read(frame)`` returns for every frame, concatenated; skips a frame a rerun replaced."""
    items: list = []
    for frame in page.frames:
        try:
            items += read(frame)
        except PlaywrightError:
            continue
    return items


if __name__ == "__main__":
    main()
