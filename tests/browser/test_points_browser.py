"""Headless Chromium: many account points draw in clusters of the vendored Leaflet.markercluster, offline."""

from __future__ import annotations

import re
import time

import psycopg2
import pytest
from playwright.sync_api import Page
from test_browser import (  # noqa: F401 — app_url, browser: the shared fixtures
    DRAW_TIMEOUT_MS,
    _evaluate,
    _idle,
    _sign_in,
    _watch_requests,
    app_url,
    browser,
)

from geo.config import Settings
from geo.maps.point_maps import PICKED_PANE

pytestmark = pytest.mark.browser
CLUSTERS = """() => Array.from(
    document.querySelectorAll('.leaflet-marker-pane .marker-cluster'),
    bubble => [bubble.innerText.trim(), getComputedStyle(bubble).backgroundColor])"""
"""Each drawn cluster bubble: the count it shows and its colour (MarkerCluster.Default.css gives it one)."""
TRANSPARENT = ("rgba(0, 0, 0, 0)", "transparent")


def _styled(bubbles: list) -> bool:
    """Whether every cluster bubble has the colour the vendored stylesheet gives it."""
    return all(colour not in TRANSPARENT for _count, colour in bubbles)


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
    # The bubbles can be drawn a moment before MarkerCluster.Default.css has loaded: wait for both.
    while not (bubbles and _styled(bubbles)) and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        bubbles = _evaluate(page, CLUSTERS)
    assert bubbles, "no cluster drawn"
    assert all(count.isdigit() and int(count) >= 2 for count, _colour in bubbles), bubbles
    assert _styled(bubbles), "the cluster styles did not load"
    assert foreign == [], foreign
    assert failed == [], failed
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()


ACCOUNT_POINT = """() => {
    // An account point (radius 7) well inside the view: its container pixel and its tooltip's text.
    for (const name of Object.keys(window)) {
        const map = window[name];
        if (!name.startsWith("map_") || !map || !map.eachLayer) continue;
        let found = null;
        map.eachLayer(layer => {
            if (found || !layer.getLatLng || !layer.options || layer.options.radius !== 7) return;
            const point = map.latLngToContainerPoint(layer.getLatLng());
            const size = map.getSize();
            if (point.x > 30 && point.y > 30 && point.x < size.x - 30 && point.y < size.y - 60) {
                const text = document.createElement("span");
                text.innerHTML = layer.getTooltip().getContent();
                found = [point.x, point.y, text.textContent.trim()];
            }
        });
        return found ? [found] : [];
    }
    return [];
}"""
"""The first account point of the ZIP's map that a click can reach."""
OPEN_TOOLTIPS = "() => Array.from(document.querySelectorAll('.leaflet-tooltip'), t => t.textContent.trim())"
PICKED_POINTS = (
    f"() => Array.from(document.querySelectorAll('.leaflet-{PICKED_PANE}-pane path.leaflet-interactive'))"
)
"""The account drawn apart, in the map pane of the account picked in the table."""


def _picked(page: Page, tooltip: str) -> bool:
    """Whether one account is drawn apart and its tooltip, the one given, stays open with no hover."""
    return len(_evaluate(page, PICKED_POINTS)) == 1 and tooltip in _evaluate(page, OPEN_TOOLTIPS)


def _zip_account(settings: Settings) -> str:
    """The external id of an account in a ZIP of 3 to 40 accounts, each at a place of its own."""
    with psycopg2.connect(settings.database_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT min(external_id) FROM accounts WHERE geom IS NOT NULL AND zip IS NOT NULL GROUP BY zip"
            " HAVING count(*) BETWEEN 3 AND 40 AND count(DISTINCT geom) = count(*)"
            " ORDER BY count(*) DESC LIMIT 1"
        )
        return cur.fetchone()[0]


def test_clicking_an_account_point_of_a_zip_picks_it_and_opens_its_tooltip(
    app_url: str,  # noqa: F811 — the shared fixture
    browser,  # noqa: F811 — the shared fixture
    demo_settings: Settings,
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    foreign, failed = _watch_requests(page)
    _sign_in(page, app_url, "region_map")
    _idle(page)
    external_id = _zip_account(demo_settings)
    field = page.get_by_label("Find an account: name, ID, city or ZIP")
    field.fill(external_id, timeout=DRAW_TIMEOUT_MS)
    field.press("Enter")
    _idle(page)
    page.get_by_label("Go to the account").click()
    page.get_by_role("option").filter(has_text=external_id).first.click()
    page.get_by_text(re.compile(r"\d+ accounts in ZIP")).wait_for(timeout=DRAW_TIMEOUT_MS)
    _idle(page)
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    while not _evaluate(page, ACCOUNT_POINT) and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    frame = next(f for f in page.frames if f.evaluate(ACCOUNT_POINT))
    frame.frame_element().scroll_into_view_if_needed()
    ((x, y, tooltip),) = frame.evaluate(ACCOUNT_POINT)
    assert " last 12 months)" in tooltip
    assert not any(tooltip == text for text in _evaluate(page, OPEN_TOOLTIPS))
    frame.locator(".leaflet-container").click(position={"x": x, "y": y})
    page.mouse.move(5, 5)  # off the map: a tooltip open now is the picked account's, not the hovered one's
    while not _picked(page, tooltip) and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    _idle(page)
    page.mouse.move(5, 5)
    assert _picked(page, tooltip), "the clicked account was not picked and shown apart"
    assert foreign == [] and failed == [], (foreign, failed)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()
