"""Headless Chromium against the app served as ``make run`` serves it: maps draw offline, pages stay light."""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import psycopg2
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from support.served import served_apps

from geo.config import Settings
from geo.places.geodesy import haversine_m
from geo.privacy.sessions import LOCK_MINUTES, MAX_FAILURES, SESSION_COOKIE

pytestmark = pytest.mark.browser
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DRAW_TIMEOUT_MS = 60_000
PAGE_BUDGET_BYTES = 5_000_000


@pytest.fixture(scope="module")
def app_url(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served_apps(demo_settings, tmp_path_factory.mktemp("server")) as (url,):
        yield url


@pytest.fixture(scope="module")
def second_app_url(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second process on the database of ``app_url``, as ``make run WORKERS=2`` serves it.

    Each process has its own port, as a proxy that keeps a browser on one process reaches
    it; cookies ignore the port, so the browser sends its one session cookie to both.
    """
    with served_apps(demo_settings, tmp_path_factory.mktemp("second-server")) as (url,):
        yield url


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is missing: `make test` installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _sign_in(
    page: Page, app_url: str, path: str, *, user: str = "admin", password: str = "admin-demo"
) -> None:
    """Open ``path``, sign in on the sign-in page it shows, and land on ``path``."""
    page.goto(f"{app_url}/{path}")
    page.get_by_label("User name").fill(user, timeout=DRAW_TIMEOUT_MS)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.locator('[data-testid="stSidebarNav"]').wait_for(timeout=DRAW_TIMEOUT_MS)


def _leaflet_paths(page: Page) -> int:
    """Count drawn polygons and markers in every frame (a frame replaced meanwhile counts 0)."""
    return sum(_count(frame, "path.leaflet-interactive") for frame in page.frames)


def _evaluate(page: Page, script: str) -> list:
    """The items ``script`` returns in every frame, concatenated (a frame replaced meanwhile adds none)."""
    return _gathered(page, lambda frame: frame.evaluate(script))


def _texts(page: Page, selector: str) -> list[str]:
    """The inner texts of ``selector`` in every frame (a frame replaced by a rerun meanwhile has none)."""
    return _gathered(page, lambda frame: frame.locator(selector).all_inner_texts())


def _gathered(page: Page, read) -> list:
    """The lists ``read(frame)`` returns for every frame, concatenated; skips a frame a rerun replaced."""
    items: list = []
    for frame in page.frames:
        try:
            items += read(frame)
        except PlaywrightError as exc:
            if "detached" not in str(exc):
                raise
    return items


def _watch_requests(page: Page) -> tuple[list[str], list[str]]:
    """Record requests that leave the machine and static files the app failed to serve."""
    foreign: list[str] = []
    failed: list[str] = []
    page.on(
        "request",
        lambda r: (
            foreign.append(r.url)
            if urlsplit(r.url).hostname not in ("127.0.0.1", None) and r.url.startswith("http")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            failed.append(f"{r.status} {r.url}") if r.status >= 400 and "/app/static/" in r.url else None
        ),
    )
    return foreign, failed


def test_map_page_draws_state_polygons_with_legend_and_no_cdn(app_url: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    foreign, failed = _watch_requests(page)
    tiles: list[int] = []
    page.on("response", lambda r: tiles.append(r.status) if "/basemap/" in r.url else None)
    # The first visit of a fresh server is a deep link: it must get the app's sign-in and then
    # the app's navigation, not Streamlit's page-per-file listing of pages/.
    _sign_in(page, app_url, "region_map")
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    while _leaflet_paths(page) < 50 and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    drawn = _leaflet_paths(page)
    legends = sum(_count(frame, ".gcrm-legend") for frame in page.frames)
    assert drawn >= 50, f"only {drawn} region polygons drawn"
    # The offline basemap: its vector tiles come from the app and draw on canvas tiles.
    _wait_for(
        lambda: sum(_count(frame, "canvas.leaflet-tile-loaded") for frame in page.frames) >= 4,
        "basemap tiles",
    )
    assert tiles and set(tiles) == {200}, tiles
    assert legends == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    navigation = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Overview" in navigation and "Sales by region" in navigation, navigation
    assert "common" not in navigation and "region map" not in navigation
    assert foreign == [], f"requests left the machine: {foreign}"
    assert failed == []
    page.close()


def test_clicking_a_state_drills_into_its_counties(app_url: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _sign_in(page, app_url, "region_map")
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    while _leaflet_paths(page) < 50 and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    breadcrumb = page.get_by_text("United States ›")
    # One click, as soon as the states are drawn, drills: no second try. The map is scrolled
    # into view first: a click placed on a map partly below the window lands off it (at its
    # edge), which is what looked like "the first click is lost".
    frame = next(f for f in page.frames if _count(f, "path.leaflet-interactive") >= 50)
    frame.frame_element().scroll_into_view_if_needed()
    container = frame.locator(".leaflet-container")
    box = container.bounding_box()
    container.click(position={"x": box["width"] / 2, "y": box["height"] / 2})  # the middle of the lower 48
    with contextlib.suppress(PlaywrightTimeout):
        breadcrumb.wait_for(timeout=15_000)
    if breadcrumb.count() != 1:
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "gcrm-drill-failure.png"))
    assert breadcrumb.count() == 1, "clicking a state did not drill down"
    assert page.get_by_role("button", name="Up one level").count() == 1
    # The address holds the drill path: a reload opens the same state's counties.
    _idle(page)
    assert re.search(r"[?&]drill=state%3A\d{2}(&|$)", page.url), page.url
    shown = breadcrumb.inner_text()
    page.reload()
    page.get_by_text(shown, exact=True).wait_for(timeout=DRAW_TIMEOUT_MS)
    page.close()


VIEW_WEST = """() => {
    for (const name of Object.keys(window)) {
        const map = window[name];
        if (name.startsWith("map_") && map && map.getBounds) return map.getBounds().getWest();
    }
    return null;
}"""
"""The west edge of the frame's map view, in degrees."""


def test_one_button_shows_alaska_and_hawaii_from_the_national_view(app_url: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _sign_in(page, app_url, "region_map")
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    while _leaflet_paths(page) < 50 and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    frame = next(f for f in page.frames if _count(f, "path.leaflet-interactive") >= 50)
    assert frame.evaluate(VIEW_WEST) > -140, "the national view opens on the contiguous states"
    frame.frame_element().scroll_into_view_if_needed()
    frame.locator(".gcrm-fit").click()
    _wait_for(lambda: frame.evaluate(VIEW_WEST) < -150, "the view to reach Alaska")
    page.close()


UPDATING = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const main = document.querySelector('[data-testid="stMain"]');
    return Boolean(app && main && app.getAttribute("data-test-script-state") === "running"
        && getComputedStyle(main, "::before").content.includes("Updating"));
}"""
"""True while the page runs again and says so (pages/_shared/style.py)."""


def test_the_page_says_updating_while_it_runs_again(app_url: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_url}/region_map")
    page.get_by_label("User name").fill("admin", timeout=DRAW_TIMEOUT_MS)
    page.get_by_role("textbox", name="Password").fill("admin-demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_function(UPDATING, timeout=DRAW_TIMEOUT_MS, polling=50)
    page.locator('[data-testid="stSidebarNav"]').wait_for(timeout=DRAW_TIMEOUT_MS)
    _idle(page)
    assert not page.evaluate(UPDATING), "the page still says Updating once it is idle"
    page.close()


MOVING = """() => document.getAnimations()
    .filter(a => a.playState === "running" && a.effect.getTiming().iterations === Infinity)
    .map(a => (a.effect.target && a.effect.target.getAttribute("data-testid")) || String(a.effect.target))"""
"""What an endless animation on the page moves (each repaints on every frame while it runs)."""


def test_the_placeholder_of_a_loading_map_stands_still(app_url: str, browser) -> None:
    """Held back, the map's component shows its placeholder, which must not shimmer; then it draws."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    held: list = []
    released: list[bool] = []
    page.route(
        "**/component/streamlit_folium*/**",
        lambda route: route.continue_() if released else held.append(route),
    )
    _sign_in(page, app_url, "region_map")
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    while not held:
        assert time.monotonic() < deadline, "the map's component was not asked for"
        page.wait_for_timeout(100)
    placeholder = page.locator('[data-testid="stSkeleton"]')
    placeholder.first.wait_for(timeout=DRAW_TIMEOUT_MS)
    assert placeholder.first.bounding_box()["height"] > 100, "no placeholder where the map will be"
    assert page.evaluate(MOVING) == []
    released.append(True)
    for route in held:
        route.continue_()
    _wait_for(lambda: _leaflet_paths(page) >= 48, "the state map once its component loads")
    page.close()


def test_a_market_measure_maps_by_county_and_trade_areas_show_their_market(app_url: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _sign_in(page, app_url, "region_map")
    for label, option in (("Measure", "Customers per 1,000 households"), ("Level", "County")):
        page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=DRAW_TIMEOUT_MS)
        page.get_by_label(label, exact=True).click()
        page.get_by_role("option", name=option, exact=True).click()
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    while _leaflet_paths(page) < 1_000 and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    assert _leaflet_paths(page) >= 1_000, "the county map of a market measure did not draw"
    # The component may rerun after its first draw and replace its frame: read the legend until it settles.
    legends = _texts(page, ".gcrm-legend")
    while (
        not any("Customers per 1,000 households" in text for text in legends) and time.monotonic() < deadline
    ):
        page.wait_for_timeout(500)
        legends = _texts(page, ".gcrm-legend")
    assert any("Customers per 1,000 households" in text for text in legends), legends
    page.goto(f"{app_url}/trade_areas")
    page.get_by_text("The market in each area").wait_for(timeout=DRAW_TIMEOUT_MS)
    assert page.get_by_text("Estimates from the counties each area covers").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()


def test_first_visit_of_the_map_page_stays_under_its_weight_budget(app_url: str, browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    bodies: list[tuple[str, int, str | None]] = []
    frames: list[int] = []
    page.on(
        "requestfinished",
        lambda r: bodies.append(
            (
                r.url,
                r.sizes()["responseBodySize"],
                (r.response().headers if r.response() else {}).get("content-encoding"),
            )
        ),
    )
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(len(payload))))
    _sign_in(page, app_url, "region_map")
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    while _leaflet_paths(page) < 50 and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    if _leaflet_paths(page) < 50:
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "gcrm-weight-failure.png"))
    assert _leaflet_paths(page) >= 50
    page.wait_for_timeout(2_000)
    total = sum(size for _url, size, _encoding in bodies) + sum(frames)
    bundles = [(url, encoding) for url, size, encoding in bodies if "/static/js/" in url and size > 100_000]
    context.close()
    assert bundles and all(encoding == "gzip" for _url, encoding in bundles), bundles
    assert total < PAGE_BUDGET_BYTES, f"{total / 1e6:.2f} MB on the first visit"


def test_territory_design_draws_units_coloured_by_territory_with_labels(
    app_url: str, browser, demo_settings: Settings
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _sign_in(page, app_url, "territory_design")
    page.get_by_role("button", name="Create a starter plan").click(timeout=DRAW_TIMEOUT_MS)
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    while _leaflet_paths(page) < 1_000 and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    assert _leaflet_paths(page) >= 1_000, "the county units were not drawn"
    fills = set(
        _evaluate(
            page,
            "Array.from(document.querySelectorAll('path.leaflet-interactive'), p => p.getAttribute('fill'))",
        )
    )
    labels = sum(_count(frame, ".gcrm-label") for frame in page.frames)
    assert len(fills - {None}) >= 3, fills
    with psycopg2.connect(demo_settings.database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM territories WHERE kind = 'territory'")
        assert labels == cur.fetchone()[0] >= 5
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()


def test_nearby_page_from_a_typed_zip_shows_the_list_and_the_map(app_url: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _sign_in(page, app_url, "nearby")
    field = page.get_by_label("Where are you? A ZIP, a city and state, or lat, lon")
    field.fill("60601", timeout=DRAW_TIMEOUT_MS)
    field.press("Enter")
    page.get_by_text("25 nearest accounts").wait_for(timeout=DRAW_TIMEOUT_MS)
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    while _leaflet_paths(page) < 26 and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    assert _leaflet_paths(page) >= 26, "the 25 accounts and the position were not drawn"
    page.locator(".stDataFrame").first.wait_for(timeout=DRAW_TIMEOUT_MS)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()


ACCOUNT_MARKER = """() => {
    // The container pixel of the account marker farthest from the position (radius 6; the position's is 9).
    for (const name of Object.keys(window)) {
        const map = window[name];
        if (!name.startsWith("map_") || !map || !map.eachLayer) continue;
        let best = null;
        map.eachLayer(layer => {
            if (layer.getLatLng && layer.options && layer.options.radius === 6) {
                const point = map.latLngToContainerPoint(layer.getLatLng());
                const size = map.getSize();
                const inside = point.x > 20 && point.y > 20 && point.x < size.x - 20 && point.y < size.y - 40;
                if (inside && (!best || Math.abs(point.x - size.x / 2) > Math.abs(best[0] - size.x / 2))) {
                    best = [point.x, point.y];
                }
            }
        });
        return best;
    }
    return null;
}"""


def test_tapping_an_account_marker_opens_it_and_keeps_the_position(app_url: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _sign_in(page, app_url, "nearby")
    field = page.get_by_label("Where are you? A ZIP, a city and state, or lat, lon")
    field.fill("60601", timeout=DRAW_TIMEOUT_MS)
    field.press("Enter")
    page.get_by_text("25 nearest accounts").wait_for(timeout=DRAW_TIMEOUT_MS)
    _idle(page)
    position = page.get_by_text("Position ").first.inner_text()
    frame = next(f for f in page.frames if _count(f, "path.leaflet-interactive") >= 26)
    frame.frame_element().scroll_into_view_if_needed()
    x, y = frame.evaluate(ACCOUNT_MARKER)
    frame.locator(".leaflet-container").click(position={"x": x, "y": y})
    page.get_by_role("button", name="Add to route").wait_for(timeout=DRAW_TIMEOUT_MS)
    _idle(page)
    assert page.get_by_text("Position ").first.inner_text() == position, "the tap moved the position"
    page.get_by_role("button", name="Add to route").click()
    page.get_by_text("Route: 1 stop,").wait_for(timeout=DRAW_TIMEOUT_MS)
    page.close()


def test_a_nearby_link_survives_sign_in_on_a_phone_and_a_pick_plans_the_route(app_url: str, browser) -> None:
    # Regression: a repeated parameter (two statuses) kept only its last value through sign-in.
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _sign_in(page, app_url, "nearby?where=60601&k=10&status=customer&status=prospect")
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_text("10 nearest accounts").wait_for(timeout=DRAW_TIMEOUT_MS)
    _idle(page)
    assert page.get_by_text("Filters: 10 nearest, customer, prospect").count() == 1
    assert page.get_by_label("Where are you? A ZIP, a city and state, or lat, lon").input_value() == "60601"
    page.get_by_label("Plan a route through").click()
    page.get_by_role("option").filter(has_text="(ACC-").first.click()
    page.get_by_text("Route: 1 stop,").wait_for(timeout=DRAW_TIMEOUT_MS)
    _idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "status=customer&status=prospect" in page.url and "where=60601" in page.url
    page.close()


def test_campaigns_page_offers_the_draw_tools_without_a_cdn(app_url: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    failed: list[str] = []
    page.on(
        "response", lambda r: failed.append(r.url) if r.status >= 400 and "/app/static/" in r.url else None
    )
    _sign_in(page, app_url, "campaigns")
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    tools = 0
    while tools < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        tools = sum(
            _count(
                frame, ".leaflet-draw-draw-polygon, .leaflet-draw-draw-rectangle, .leaflet-draw-draw-circle"
            )
            for frame in page.frames
        )
    assert tools == 3, "the polygon, rectangle and circle tools are not on the map"
    assert failed == []
    page.close()


MARKERS_SCRIPT = """() => {
    const found = [];
    for (const name of Object.keys(window)) {
        const map = window[name];
        if (!name.startsWith('map_') || !map || !map.eachLayer) continue;
        map.eachLayer(layer => {
            if (layer.getLatLng && layer.options && layer.options.radius === 6) {
                const at = layer.getLatLng();
                found.push([at.lng, at.lat]);
            }
        });
    }
    return found;
}"""


def test_a_rep_signed_in_sees_only_their_accounts_nearby_and_on_the_map(
    app_url: str, browser, demo_settings: Settings
) -> None:
    from geo.store.bootstrap import prepare_database
    from territories.starter import starter_plan

    conns = prepare_database(demo_settings)
    starter_plan(conns.app, demo_settings.data_dir, user="t")
    with conns.owner.transaction(user="t") as cur:
        cur.execute(
            "SELECT a.external_id, a.name, round(ST_X(a.geom)::numeric, 5), round(ST_Y(a.geom)::numeric, 5),"
            " a.territory_id = ANY(ARRAY(SELECT t.territory_id FROM territories t"
            "   JOIN app_users u ON u.rep_id = t.rep_id WHERE u.username = 'rep'))"
            " FROM accounts a WHERE a.geom IS NOT NULL"
        )
        rows = cur.fetchall()
    conns.close()
    mine = {(float(x), float(y)) for _id, _name, x, y, own in rows if own}
    others = {(float(x), float(y)) for _id, _name, x, y, own in rows if not own}
    assert mine and others
    lon, lat = next(iter(sorted(mine)))
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    # Offer the grid's CSV as a plain download instead of the browser's file picker.
    page.add_init_script("delete window.showSaveFilePicker")
    _sign_in(page, app_url, "nearby", user="rep", password="rep-demo")
    navigation = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Nearby accounts" in navigation and "Campaigns" not in navigation and "Data" not in navigation
    field = page.get_by_label("Where are you? A ZIP, a city and state, or lat, lon")
    field.fill(f"{lat}, {lon}", timeout=DRAW_TIMEOUT_MS)
    field.press("Enter")
    page.get_by_text("nearest accounts").first.wait_for(timeout=DRAW_TIMEOUT_MS)
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    markers: list = []
    while len(markers) < 5 and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        markers = _evaluate(page, MARKERS_SCRIPT)
    shown = {(round(x, 5), round(y, 5)) for x, y in markers}
    assert len(shown) >= 5, "the rep's accounts were not drawn"
    assert shown <= mine, f"{len(shown - mine)} accounts of other reps on the map"
    # Rows of the list are drawn on a canvas; its accessible grid names the accounts.
    # The list is drawn on a canvas: read it through its own "Download as CSV".
    page.locator('[data-testid="stDataFrame"]').first.hover()
    with page.expect_download(timeout=DRAW_TIMEOUT_MS) as download:
        page.get_by_role("button", name="Download as CSV").first.click()
    listed = pd.read_csv(download.value.path(), dtype={"ID": str})
    own_ids = {external_id for external_id, _name, _lon, _lat, own in rows if own}
    assert len(listed) >= 5 and set(listed["ID"]) <= own_ids, set(listed["ID"]) - own_ids
    # Not vacuous: accounts of other reps lie nearer than the farthest listed one.
    reach_m = listed["km"].max() * 1000
    nearer = [p for p in others if haversine_m(lon, lat, p[0], p[1]) < reach_m]
    assert nearer, "no other rep's account nearby: the test proves nothing"
    assert page.locator('[data-testid="stException"]').count() == 0
    # Sales by region counts the rep's accounts only.
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Sales by region").click()
    page.get_by_role("button", name="Download CSV").wait_for(timeout=DRAW_TIMEOUT_MS)
    _idle(page)
    with page.expect_download(timeout=DRAW_TIMEOUT_MS) as download:
        page.get_by_role("button", name="Download CSV").click()
    by_state = pd.read_csv(download.value.path())
    assert by_state["accounts"].sum() == len(own_ids) < len(rows)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()


def test_the_nearby_page_uses_the_browsers_location(app_url: str, browser) -> None:
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000},
        geolocation={"latitude": 41.8781, "longitude": -87.6298},
        permissions=["geolocation"],
    )
    page = context.new_page()
    _sign_in(page, app_url, "nearby")
    page.get_by_text("use your location").wait_for(timeout=DRAW_TIMEOUT_MS)
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    button = None
    while button is None and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        button = next((f.locator(".gcrm-locate") for f in page.frames if _count(f, ".gcrm-locate")), None)
    assert button is not None, "no location button on the map"
    button.click()
    page.get_by_text("nearest accounts").first.wait_for(timeout=DRAW_TIMEOUT_MS)
    assert page.get_by_text("Position 41.87810, -87.62980").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    context.close()


def test_a_marketer_picks_a_state_by_clicking_on_the_map(app_url: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    _sign_in(page, app_url, "campaigns", user="marketer", password="marketer-demo")
    page.get_by_text("Pick states or counties by clicking on a map").click(timeout=DRAW_TIMEOUT_MS)
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    frame = None
    while frame is None and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        frame = next((f for f in page.frames if _count(f, "path.leaflet-interactive") >= 48), None)
    assert frame is not None, "the states to pick were not drawn"
    audience = page.get_by_test_id("stMetricLabel").get_by_text("Final audience")
    # One click picks the state: no second try (the map scrolled into view first, as above).
    frame.frame_element().scroll_into_view_if_needed()
    container = frame.locator(".leaflet-container")
    box = container.bounding_box()
    container.click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    with contextlib.suppress(PlaywrightTimeout):
        audience.wait_for(timeout=15_000)
    assert audience.count() == 1, "clicking a state did not make it the target"
    chips = page.locator('[data-testid="stMultiSelect"]').first.inner_text()
    assert any(name in chips for name in ("Kansas", "Nebraska", "Missouri", "Oklahoma", "Colorado")), chips
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()


def _count(frame, selector: str) -> int:
    """Count ``selector`` in one frame; a frame replaced by a rerun meanwhile counts 0."""
    try:
        return frame.locator(selector).count()
    except PlaywrightError as exc:
        if "detached" not in str(exc):
            raise
        return 0


SCRIPT_RUNNING = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return Boolean(app) && app.getAttribute("data-test-script-state") !== "notRunning";
}"""
"""Whether Streamlit is running (or about to run) the page script."""


def _idle(page: Page, *, quiet_s: float = 1.5) -> None:
    """Wait until no script runs and none has for ``quiet_s``: a map's first draw reruns the page.

    A download button's file is made from what the run that drew it registered; a click sent
    while a rerun replaces the button asks for a file that is gone, and nothing downloads.
    """
    status = page.locator('[data-testid="stStatusWidget"]')
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < quiet_s:
        assert time.monotonic() < deadline, "the page kept rerunning"
        # The status widget shows only once a run has lasted a moment; the app's own state says at once.
        if status.count() or page.evaluate(SCRIPT_RUNNING):
            quiet_since = time.monotonic()
        page.wait_for_timeout(50)


def _session_cookie(context) -> dict | None:
    return next((c for c in context.cookies() if c["name"] == SESSION_COOKIE), None)


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_session_survives_reload_new_tab_and_link_until_signed_out_in_one_tab(
    app_url: str, browser
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    _sign_in(page, app_url, "", user="marketer", password="marketer-demo")
    _wait_for(lambda: _session_cookie(context) is not None, "the session cookie")
    cookie = _session_cookie(context)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # served over http
    assert SESSION_COOKIE not in page.evaluate("document.cookie"), "page JavaScript reads the token"
    signed_in = page.get_by_text("Signed in as Mira Marketer")

    page.reload()
    signed_in.wait_for(timeout=DRAW_TIMEOUT_MS)
    page.get_by_role("heading", name="Overview", exact=True).wait_for(timeout=DRAW_TIMEOUT_MS)
    second = context.new_page()
    second.goto(f"{app_url}/campaigns")
    second.get_by_role("heading", name="Campaigns", exact=True).wait_for(timeout=DRAW_TIMEOUT_MS)
    assert second.get_by_text("Signed in as Mira Marketer").count() == 1
    assert second.get_by_label("User name").count() == 0

    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("User name").wait_for(timeout=DRAW_TIMEOUT_MS)
    _wait_for(lambda: _session_cookie(context) is None, "the cookie to be removed")
    # The second tab's next action finds its session ended.
    second.locator('[data-testid="stSidebarNav"]').get_by_text("Overview").click()
    second.get_by_label("User name").wait_for(timeout=DRAW_TIMEOUT_MS)
    assert second.get_by_text("Your session has ended; sign in again.").count() == 1
    assert second.get_by_role("heading", name="Overview").count() == 0
    page.reload()
    page.get_by_label("User name").wait_for(timeout=DRAW_TIMEOUT_MS)
    assert page.locator('[data-testid="stException"]').count() == 0
    context.close()


def _audited(settings: Settings, action: str, actor: str) -> int:
    with psycopg2.connect(settings.database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit_log WHERE action = %s AND actor = %s", (action, actor))
        count = cur.fetchone()[0]
    conn.close()
    return count


def test_after_five_wrong_passwords_the_form_says_the_user_is_throttled(
    app_url: str, browser, demo_settings: Settings
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    before = _audited(demo_settings, "login.failed", "manager")
    for attempt in range(1, MAX_FAILURES + 1):
        page.get_by_label("User name").fill("manager", timeout=DRAW_TIMEOUT_MS)
        page.get_by_role("textbox", name="Password").fill(f"wrong-password-{attempt}")
        page.get_by_role("button", name="Sign in").click()
        _wait_for(
            lambda n=attempt: _audited(demo_settings, "login.failed", "manager") == before + n, "an answer"
        )
    locked = f"Too many failed sign-ins for this user; try again in {LOCK_MINUTES} minutes."
    page.get_by_text(locked).wait_for(timeout=DRAW_TIMEOUT_MS)
    page.get_by_role("textbox", name="Password").fill("manager-demo")
    page.get_by_role("button", name="Sign in").click()
    _wait_for(lambda: _audited(demo_settings, "login.throttled", "manager") == 1, "the throttled attempt")
    page.get_by_text(locked).wait_for(timeout=DRAW_TIMEOUT_MS)
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0, "the right password got through"
    page.close()


def test_signed_in_through_one_process_a_browser_is_signed_in_on_the_other(
    app_url: str, second_app_url: str, browser
) -> None:
    first, second = app_url, second_app_url
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    _sign_in(page, first, "", user="marketer", password="marketer-demo")
    _wait_for(lambda: _session_cookie(context) is not None, "the session cookie")

    other = context.new_page()
    other.goto(f"{second}/region_map")
    other.get_by_role("button", name="Download CSV").wait_for(timeout=DRAW_TIMEOUT_MS)
    assert other.get_by_text("Signed in as Mira Marketer").count() == 1
    _wait_for(lambda: _leaflet_paths(other) >= 50, "the map drawn by the second process")
    _idle(other)
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
