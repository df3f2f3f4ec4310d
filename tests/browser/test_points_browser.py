"""Headless Chromium: many account points draw in clusters of the vendored Leaflet.markercluster, offline."""

from __future__ import annotations

import time

import pytest
from test_browser import (  # noqa: F401 — app_url, browser: the shared fixtures
    DRAW_TIMEOUT_MS,
    _evaluate,
    _idle,
    _sign_in,
    _watch_requests,
    app_url,
    browser,
)

pytestmark = pytest.mark.browser
CLUSTERS = """() => Array.from(
    document.querySelectorAll('.leaflet-marker-pane .marker-cluster'),
    bubble => [bubble.innerText.trim(), getComputedStyle(bubble).backgroundColor])"""
"""Each drawn cluster bubble: the count it shows and its colour (MarkerCluster.Default.css gives it one)."""
TRANSPARENT = ("rgba(0, 0, 0, 0)", "transparent")


def test_a_trade_areas_many_accounts_draw_in_clusters_with_no_request_leaving_the_machine(
    app_url: str,  # noqa: F811 — the shared fixture
    browser,  # noqa: F811 — the shared fixture
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    foreign, failed = _watch_requests(page)
    _sign_in(page, app_url, "trade_areas")
    page.get_by_text("The market in each area").wait_for(timeout=DRAW_TIMEOUT_MS)
    _idle(page)
    # The busiest demo branch's nearest-branch area holds some 240 accounts: more than CLUSTER_ABOVE.
    page.get_by_label("Trade area", exact=True).click()
    page.get_by_role("option", name="Nearest-branch area", exact=True).click()
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    bubbles = _evaluate(page, CLUSTERS)
    while not bubbles and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        bubbles = _evaluate(page, CLUSTERS)
    assert bubbles, "no cluster drawn"
    assert all(count.isdigit() and int(count) >= 2 for count, _colour in bubbles), bubbles
    assert all(colour not in TRANSPARENT for _count, colour in bubbles), "the cluster styles did not load"
    assert foreign == [], foreign
    assert failed == [], failed
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()
