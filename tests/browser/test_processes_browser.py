"""Two app processes on one database (``make run WORKERS=2``): signed in through one, signed in on both.

Each process is reached on its own port, as a proxy that keeps a browser on one process
reaches it; cookies ignore the port, so the browser sends the one session cookie to both.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from support.served import served_apps
from test_browser import (  # noqa: F401 — the shared fixture
    DRAW_TIMEOUT_MS,
    _leaflet_paths,
    _session_cookie,
    _sign_in,
    _wait_for,
    browser,
)

from geo.config import Settings

pytestmark = pytest.mark.browser
PROCESSES = 2
STATE_POLYGONS = 50
"""Fewer drawn states than this is a map that did not draw."""


@pytest.fixture(scope="module")
def app_urls(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    with served_apps(demo_settings, tmp_path_factory.mktemp("servers"), count=PROCESSES) as urls:
        yield urls


def test_signed_in_through_one_process_a_browser_is_signed_in_on_the_other(
    app_urls: list[str],
    browser,  # noqa: F811
) -> None:
    first, second = app_urls
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    _sign_in(page, first, "", user="marketer", password="marketer-demo")
    _wait_for(lambda: _session_cookie(context) is not None, "the session cookie")

    other = context.new_page()
    other.goto(f"{second}/region_map")
    other.get_by_role("button", name="Download CSV").wait_for(timeout=DRAW_TIMEOUT_MS)
    assert other.get_by_text("Signed in as Mira Marketer").count() == 1
    _wait_for(lambda: _leaflet_paths(other) >= STATE_POLYGONS, "the map drawn by the second process")
    # The download's file is kept by the process that drew the page, and fetched from it.
    with other.expect_download(timeout=DRAW_TIMEOUT_MS) as download:
        other.get_by_role("button", name="Download CSV").click()
    assert download.value.url.startswith(f"{second}/media/"), download.value.url
    by_state = pd.read_csv(download.value.path())
    assert len(by_state) >= 1 and by_state["accounts"].sum() > 0

    # Signing out there ends the session in the first process's tab too.
    other.get_by_role("button", name="Sign out").click()
    other.get_by_label("User name").wait_for(timeout=DRAW_TIMEOUT_MS)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Sales by region").click()
    page.get_by_text("Your session has ended; sign in again.").wait_for(timeout=DRAW_TIMEOUT_MS)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert other.locator('[data-testid="stException"]').count() == 0
    context.close()
