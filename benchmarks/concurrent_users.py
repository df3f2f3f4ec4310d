"""Benchmark: a sales meeting on one server, N people signed in at once in headless Chromium.

Serves the app as ``make run`` does (``uvicorn serve:app``, ``--workers`` processes) against the
configured database (load the book first, e.g. ``gcrm demo --accounts 20000 --replace``; the
demo users must exist). For each count of ``--sessions``, that many browser sessions start at
once, signed in as a mix of the demo roles (admin, manager, marketer, rep in turn), and each
opens, ``--rounds`` times in turn, the manager's page (Sales by region), the marketer's
(Campaigns) and the rep's (Nearby accounts: the first time, its map to pick a position on and
then the 25 nearest of one of the user's own accounts, then the page remembers them), each page
its navigation offers, through
the sidebar as a person would. Prints, per
count and page, p50, p95 and max seconds until its map is drawn (from the sign-in or the
click), errors (a map not drawn within 120 s, an exception on the page; each with a screenshot in
the temporary directory), the server's peak RSS (all its processes), and the CPU seconds the
server, the browsers and the database used over the run's wall seconds.

Usage::

    .venv/bin/python benchmarks/concurrent_users.py [--sessions 1,4,8,16] [--rounds 3]
    .venv/bin/python benchmarks/concurrent_users.py [--workers 1] [--settle 10]
    .venv/bin/python benchmarks/concurrent_users.py [--browser chromium|chromium-headless-shell]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil
from playwright.async_api import Browser, Page, async_playwright
from playwright.async_api import Error as PlaywrightError

from geo.config import load_settings
from geo.store.bootstrap import prepare_database
from geo.store.users import DEMO_USERS

PROJECT_DIR = Path(__file__).resolve().parent.parent
DRAW_TIMEOUT_S = 120
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking"]
BROWSERS = ("chromium", "chromium-headless-shell")
"""The Chromium builds the sessions may run in (executables on the PATH), the default first.

The headless shell (Debian's ``chromium-headless-shell``, the build Playwright itself runs
headless; ``make setup SYSTEM_FLAGS="--browser --benchmark"`` installs it) costs a fifth less
CPU per session than the full browser in its headless mode: on two cores the load generator
takes less from the server it measures."""
USERS = [(name, role, password) for name, role, password, _display in DEMO_USERS]
"""The demo users (name, role, password), one of each role: sessions take them in turn."""
PAGES = {
    "Sales by region": ("path.leaflet-interactive", 48),
    "Campaigns": (".leaflet-draw-draw-polygon", 1),
    "Nearby: where are you": ("canvas.leaflet-tile-loaded", 4),
    "Nearby accounts": (".leaflet-overlay-pane path", 26),
    "Nearby: 25 nearest": ("path.leaflet-interactive", 26),
}
"""Timed step → (what its drawn map shows, how many of them)."""
SAMPLE_S = 0.5


@dataclass
class Figures:
    """Seconds to a drawn map per step, and errors, of one count of sessions."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in PAGES})
    errors: list[str] = field(default_factory=list)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (its options are those the module docstring lists)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,4,8,16", help="Counts of simultaneous sessions, in turn.")
    parser.add_argument("--rounds", type=int, default=3, help="Times each session opens its pages.")
    parser.add_argument("--workers", type=int, default=1, help="Server processes (uvicorn --workers).")
    parser.add_argument("--settle", type=float, default=10.0, help="Seconds to let the server warm up.")
    parser.add_argument(
        "--browser",
        default=BROWSERS[0],
        choices=BROWSERS,
        help="The Chromium the sessions run in: Debian's chromium (the browser the tests use) or"
        " its headless shell.",
    )
    return parser


def main() -> None:
    """Serve the app, run each count of sessions and print the figures."""
    args = build_parser().parse_args()
    counts = [int(count) for count in args.sessions.split(",")]
    executable = shutil.which(args.browser)
    if executable is None:
        setup = 'make setup SYSTEM_FLAGS="--browser --benchmark"'
        msg = f"{args.browser} is not on the PATH ({setup} installs it)"
        raise SystemExit(msg)
    positions = _own_positions()
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "serve:app", "--port", str(port), "--log-level", "warning"]
    if args.workers > 1:
        command += ["--workers", str(args.workers)]
    server = subprocess.Popen(command, cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url)
        time.sleep(args.settle)
        for count in counts:
            with _Sampler(server.pid) as usage:
                figures = asyncio.run(_meeting(url, executable, count, args.rounds, positions))
            _report(count, figures, usage)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _own_positions() -> dict[str, str]:
    """A "lat, lon" of one of each demo user's own accounts, typed on Nearby accounts."""
    connections = prepare_database(load_settings(), operator="benchmark")
    positions = {}
    for user, _role, _password in USERS:
        with connections.app.transaction(user=user) as cur:
            cur.execute(
                "SELECT ST_Y(geom), ST_X(geom) FROM accounts WHERE geom IS NOT NULL"
                " ORDER BY account_id LIMIT 1"
            )
            row = cur.fetchone()
        if row is None:
            msg = f"The demo user {user!r} sees no placed account: load the demo book first."
            raise SystemExit(msg)
        positions[user] = f"{row[0]:.5f}, {row[1]:.5f}"
    connections.close()
    return positions


async def _meeting(url: str, executable: str, count: int, rounds: int, positions: dict[str, str]) -> Figures:
    figures = Figures()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        await asyncio.gather(
            *(
                _session(browser, url, USERS[number % len(USERS)], rounds, positions, figures)
                for number in range(count)
            )
        )
        await browser.close()
    return figures


async def _session(
    browser: Browser,
    url: str,
    user: tuple[str, str, str],
    rounds: int,
    positions: dict[str, str],
    figures: Figures,
) -> None:
    name, _role, password = user
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    try:
        await page.goto(f"{url}/region_map")
        await page.get_by_label("User name").fill(name, timeout=DRAW_TIMEOUT_S * 1000)
        await page.get_by_role("textbox", name="Password").fill(password)
        started = time.perf_counter()
        await page.get_by_role("button", name="Sign in").click()
        await _timed(page, "Sales by region", started, figures)
        navigation = page.locator('[data-testid="stSidebarNav"]')
        offered = await navigation.inner_text()
        for round_number in range(rounds):
            for title in ("Sales by region", "Campaigns"):
                if title in offered and (round_number or title != "Sales by region"):
                    started = time.perf_counter()
                    await navigation.get_by_text(title, exact=True).click()
                    await _timed(page, title, started, figures)
            if "Nearby accounts" in offered:
                started = time.perf_counter()
                await navigation.get_by_text("Nearby accounts", exact=True).click()
                if round_number:
                    # The page remembers where the user is: its nearest are drawn.
                    await _timed(page, "Nearby accounts", started, figures)
                    continue
                # No position yet: the map to pick one on, the basemap's tiles drawn.
                await _timed(page, "Nearby: where are you", started, figures)
                where = page.get_by_label("Where are you? A ZIP, a city and state, or lat, lon")
                await where.fill(positions[name])
                started = time.perf_counter()
                await where.press("Enter")
                await _timed(page, "Nearby: 25 nearest", started, figures)
    except (PlaywrightError, TimeoutError) as exc:
        shot = Path(tempfile.gettempdir()) / f"gcrm-concurrent-{name}-{len(figures.errors)}.png"
        await page.screenshot(path=str(shot))
        figures.errors.append(f"{name}: {str(exc).splitlines()[0]} (screenshot: {shot})")
    finally:
        await context.close()


async def _timed(page: Page, step: str, started: float, figures: Figures) -> None:
    """Wait until the step's map is drawn and record the seconds since ``started``."""
    selector, at_least = PAGES[step]
    while await _count(page, selector) < at_least:
        if time.perf_counter() - started > DRAW_TIMEOUT_S:
            msg = f"{step}: no map drawn within {DRAW_TIMEOUT_S} s"
            raise TimeoutError(msg)
        if await page.locator('[data-testid="stException"]').count():
            msg = f"{step}: an exception on the page"
            raise TimeoutError(msg)
        await page.wait_for_timeout(100)
    figures.seconds[step].append(time.perf_counter() - started)
    # A person looks at the map before the next click; the page also settles its reruns.
    await page.locator('[data-testid="stStatusWidget"]').wait_for(
        state="hidden", timeout=DRAW_TIMEOUT_S * 1000
    )


async def _count(page: Page, selector: str) -> int:
    total = 0
    for frame in page.frames:
        try:
            total += await frame.locator(selector).count()
        except PlaywrightError:
            continue
    return total


class _Sampler:
    """Peak RSS and CPU seconds of the server (a process and its children) while the block runs.

    Also the CPU seconds of the browsers (this script's other children), of the database
    (processes named ``postgres``) and the wall seconds, to tell where the machine's cores went.
    """

    def __init__(self, pid: int) -> None:
        self._root = psutil.Process(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._seen: dict[int, psutil.Process] = {}
        self._last: dict[int, tuple[str, float]] = {}
        self._start: dict[int, float] = {}
        self._started = 0.0
        self.peak_rss = 0
        self.cpu_seconds: dict[str, float] = {}
        self.wall_seconds = 0.0

    def __enter__(self) -> _Sampler:
        self._started = time.perf_counter()
        self._start = {pid: cpu for pid, (_group, cpu) in self._read().items()}
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._read()
        self.wall_seconds = time.perf_counter() - self._started
        totals = dict.fromkeys(("server", "browsers", "database"), 0.0)
        for pid, (group, cpu) in self._last.items():
            totals[group] += cpu - self._start.get(pid, 0.0)
        self.cpu_seconds = totals

    def _server(self) -> list[psutil.Process]:
        return [self._root, *self._root.children(recursive=True)]

    def _groups(self) -> dict[str, list[psutil.Process]]:
        server = self._server()
        server_pids = {process.pid for process in server}
        me = psutil.Process()
        browsers = [p for p in me.children(recursive=True) if p.pid not in server_pids]
        database = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]
        return {"server": server, "browsers": browsers, "database": database}

    def _read(self) -> dict[int, tuple[str, float]]:
        """CPU seconds of every process seen so far; an exited one keeps its last reading."""
        for group, processes in self._groups().items():
            for process in processes:
                try:
                    times = process.cpu_times()
                except psutil.Error:
                    continue
                self._last[process.pid] = (group, times.user + times.system)
        return dict(self._last)

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            rss = 0
            for process in self._server():
                try:
                    rss += process.memory_info().rss
                except psutil.Error:
                    continue
            self.peak_rss = max(self.peak_rss, rss)
            self._read()


def _report(count: int, figures: Figures, usage: _Sampler) -> None:
    print(f"{count} sessions:")
    for step, seconds in figures.seconds.items():
        if seconds:
            p50, p95 = np.percentile(seconds, [50, 95])
            print(
                f"  {step:<20} {len(seconds):>3} maps: p50 {p50:5.2f} s, p95 {p95:5.2f} s,"
                f" max {max(seconds):5.2f} s"
            )
    print(
        f"  errors: {len(figures.errors)}{' (' + '; '.join(figures.errors) + ')' if figures.errors else ''}"
        f"  |  server: peak RSS {usage.peak_rss / 2**20:,.0f} MiB"
    )
    cpu = usage.cpu_seconds
    print(
        f"  CPU over {usage.wall_seconds:.0f} s on {psutil.cpu_count()} cores: server {cpu['server']:.1f} s,"
        f" browsers {cpu['browsers']:.1f} s, database {cpu['database']:.1f} s"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    msg = "the app did not start"
    raise RuntimeError(msg)


if __name__ == "__main__":
    main()
