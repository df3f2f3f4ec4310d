"""Script in the book never runs: every page and map in headless Chromium, with hostile names everywhere.

Accounts, contacts and visits are imported from files, reps, territories, branches and
regions are renamed, and campaigns are saved with names from :data:`PAYLOADS`; then one
signed-in admin opens every page, opens every tooltip of every map, and drills and clicks
where the pages draw more. Any dialog, page error, traceback, changed window title or title set
by a component frame fails, and so does a map that no longer draws or shows a name other than typed.
"""

from __future__ import annotations

import re
import time

import pandas as pd
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from support.payloads import HOSTILE_TEXTS
from test_browser import DRAW_TIMEOUT_MS, _sign_in, app_url, browser  # noqa: F401 — shared fixtures
from test_browser import _idle as _settled

from geo.campaigns.filters import Filters
from geo.campaigns.storage import record_responses, save_campaign
from geo.campaigns.target import region_part
from geo.config import Settings
from geo.ingest.files import read_table
from geo.ingest.importer import detect_mapping, run_import
from geo.store.bootstrap import prepare_database
from territories.starter import starter_plan

pytestmark = pytest.mark.browser
PAYLOADS = (
    *HOSTILE_TEXTS,
    "<img src=x onerror=document.title=1>",
)
"""Names that would run (or break the map's script) if pasted unescaped into HTML or JavaScript."""
USER = "t"
APP_TITLE = "gcrm"
"""The window's title on every page (``st.set_page_config``)."""
QUIET_S = 0.5
"""Seconds without a run before a page counts as settled: a click's run has started by then."""
GUARD_SCRIPT = """(() => {
    // Record titles set from inside component frames, and every uncaught error, in each frame.
    window.__gcrmErrors = [];
    window.addEventListener('error', e => window.__gcrmErrors.push(String(e.message)));
    window.addEventListener('unhandledrejection', e => window.__gcrmErrors.push(String(e.reason)));
    if (window.top === window) return;
    window.__gcrmTitles = [];
    const title = Object.getOwnPropertyDescriptor(Document.prototype, 'title');
    Object.defineProperty(Document.prototype, 'title', {
        configurable: true,
        get() { return title.get.call(this); },
        set(value) { window.__gcrmTitles.push(String(value)); title.set.call(this, value); },
    });
})();"""
FRAME_STATE = (
    "() => ({errors: (window.__gcrmErrors || []).splice(0), titles: (window.__gcrmTitles || []).splice(0)})"
)
FRAME_MAPS = """() => [
    location.href.slice(0, 80),
    typeof window.L !== 'undefined',
    Object.keys(window).filter(name => name.startsWith('map_')).length,
    document.querySelectorAll('path.leaflet-interactive').length,
]"""
OPEN_TOOLTIPS = """() => {
    // Hover every layer of every Leaflet map in the frame (through Leaflet's events) and read its tooltip.
    const texts = [];
    for (const name of Object.keys(window)) {
        const map = window[name];
        if (!name.startsWith('map_') || !map || !map.eachLayer) continue;
        const layers = [];
        map.eachLayer(layer => layers.push(layer));
        for (const layer of layers) {
            if (L.MarkerClusterGroup && layer instanceof L.MarkerClusterGroup) {
                // Markers inside a cluster bubble are not on the map: render each one's tooltip
                // content as Leaflet would (innerHTML of a string), where unescaped markup would run.
                for (const child of layer.getLayers()) {
                    const tip = child.getTooltip && child.getTooltip();
                    if (!tip) continue;
                    const shown = document.createElement('div');
                    const content = tip.getContent();
                    if (typeof content === 'string') shown.innerHTML = content;
                    else shown.appendChild(content.cloneNode(true));
                    texts.push(shown.textContent.trim());
                }
                continue;
            }
            const own = layer.getTooltip && layer.getTooltip();
            const parent = Object.values(layer._eventParents || {}).find(p => p.getTooltip && p.getTooltip());
            const owner = own ? layer : parent;
            if (!owner || (own && layer.eachLayer)) continue;
            const at = layer.getLatLng ? layer.getLatLng() : layer.getBounds().getCenter();
            layer.fire('mouseover', {latlng: at}, true);
            const element = owner.getTooltip().getElement();
            if (element) texts.push(element.innerText.trim());
            layer.fire('mouseout', {latlng: at}, true);
        }
    }
    return texts;
}"""
LABELS = """() => Array.from(
    document.querySelectorAll('.gcrm-label, .gcrm-legend'), e => e.innerText
).join('\\n')"""
POINT_OF = """([key, lon, lat]) => {
    // The container pixel of a point: a region's own point (ZIP circles), or a given point inside it.
    for (const name of Object.keys(window)) {
        const map = window[name];
        if (!name.startsWith('map_') || !map || !map.eachLayer) continue;
        let at = L.latLng(lat, lon);
        map.eachLayer(layer => {
            const props = layer.feature && layer.feature.properties;
            if (props && props.key === key && layer.getLatLng) at = layer.getLatLng();
        });
        const point = map.latLngToContainerPoint(at);
        return [point.x, point.y];
    }
    return null;
}"""


@pytest.fixture(scope="module")
def demo_settings(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """This module's demo book, with hostile text in every name a page or map shows."""
    conns = prepare_database(demo_settings)
    try:
        with conns.owner.transaction(user=USER) as cur:
            cur.execute(
                "UPDATE reps SET name = (%s::text[])[1 + rep_id %% %s]", (list(PAYLOADS), len(PAYLOADS))
            )
        starter_plan(conns.app, demo_settings.data_dir, user=USER)
        with conns.owner.transaction(user=USER) as cur:
            cur.execute(
                "UPDATE territories SET code = (%s::text[])[1 + territory_id %% %s] || ' ' || territory_id"
                " WHERE kind = 'territory'",
                (list(PAYLOADS), len(PAYLOADS)),
            )
            cur.execute(
                "UPDATE branches SET name = (%s::text[])[1 + branch_id %% %s],"
                " street = (%s::text[])[1 + branch_id %% %s], city = (%s::text[])[1 + branch_id %% %s]",
                (list(PAYLOADS), len(PAYLOADS)) * 3,
            )
            cur.execute(
                "UPDATE regions SET name = (%s::text[])[1 + code::bigint %% %s] || ' ' || code"
                " WHERE level IN ('state', 'county')",
                (list(PAYLOADS), len(PAYLOADS)),
            )
            cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM branches ORDER BY name LIMIT 1")
            lon, lat = cur.fetchone()
        folder = tmp_path_factory.mktemp("payloads")
        ids = [f"XSS-{i}" for i in range(len(PAYLOADS))]
        files = {
            "accounts": pd.DataFrame(
                {
                    "Account ID": ids,
                    "Account name": PAYLOADS,
                    "Industry": PAYLOADS,
                    "Status": "customer",
                    "Street": PAYLOADS,
                    "City": PAYLOADS,
                    "Latitude": [lat + 0.002 * (i + 1) for i in range(len(PAYLOADS))],
                    "Longitude": [lon + 0.002 * (i + 1) for i in range(len(PAYLOADS))],
                    "Marketing consent": "yes",
                }
            ),
            "contacts": pd.DataFrame({"Account ID": ids, "First name": PAYLOADS, "Last name": PAYLOADS}),
            "interactions": pd.DataFrame(
                {"Account ID": ids, "Type": "visit", "Date": "2026-01-05", "Notes": PAYLOADS}
            ),
        }
        for kind, frame in files.items():
            path = folder / f"{kind}.csv"
            frame.to_csv(path, index=False)
            table = read_table(path)
            summary = run_import(
                conns.app,
                kind,
                table,
                mapping=detect_mapping(list(table.frame.columns), kind),
                user=USER,
                data_dir=demo_settings.data_dir,
                filename=path.name,
            )
            assert summary.inserted == len(PAYLOADS), (kind, summary.line(), summary.rejects)
        with conns.app.transaction(user=USER) as cur:
            cur.execute("SELECT state_fips FROM accounts WHERE external_id = 'XSS-0'")
            state = cur.fetchone()[0]
        for name in PAYLOADS[:4]:
            save_campaign(conns.app, name, [region_part("state", [state])], Filters(), user=USER)
        recorded = record_responses(
            conns.app, PAYLOADS[0], pd.DataFrame({"external_id": ids, "kind": "response"}), user=USER
        )
        assert recorded["recorded"] == len(PAYLOADS)
    finally:
        conns.close()
    return demo_settings


@pytest.fixture(scope="module")
def hostile(demo_settings: Settings) -> dict:
    """Where the hostile accounts are; a state, its largest county with accounts and a ZIP to drill into."""
    conns = prepare_database(demo_settings)
    with conns.app.transaction(user=USER) as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom), state_fips FROM accounts WHERE external_id = 'XSS-0'")
        lon, lat, state = cur.fetchone()
        cur.execute(
            "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM regions"
            " WHERE level = 'state' AND code = %s",
            (state,),
        )
        state_point = cur.fetchone()
        cur.execute(
            "SELECT r.code, ST_X(ST_PointOnSurface(r.geom)), ST_Y(ST_PointOnSurface(r.geom)),"
            " min(a.postal_code) FROM regions r JOIN accounts a ON a.county_fips = r.code"
            " WHERE r.level = 'county' AND r.parent_code = %s AND a.postal_code IS NOT NULL"
            " GROUP BY r.code, r.geom ORDER BY ST_Area(r.geom) DESC LIMIT 1",
            (state,),
        )
        county, county_lon, county_lat, zip_code = cur.fetchone()
        cur.execute("SELECT name, branch_id FROM branches ORDER BY name LIMIT 1")
        branch, branch_id = cur.fetchone()
    conns.close()
    return {
        "branch": branch,
        "branch_id": branch_id,
        "lon": lon,
        "lat": lat,
        "state": (state, *state_point),
        "county": (county, county_lon, county_lat),
        "zip": (zip_code, county_lon, county_lat),
    }


class Watch:
    """What a page did that script from data could have caused: dialogs, errors, titles."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.failures: list[str] = []
        self.pending: dict[object, str] = {}
        self.failed_requests: list[str] = []
        page.on("dialog", self._dialog)
        page.on("request", lambda request: self.pending.__setitem__(request, request.url))
        page.on("requestfinished", lambda request: self.pending.pop(request, None))
        page.on("requestfailed", self._request_failed)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"console: {message.text}")
                if message.type == "error" and "Error" in message.text
                else None
            ),
        )

    def _request_failed(self, request) -> None:
        self.pending.pop(request, None)
        self.failed_requests.append(f"{request.url}: {request.failure}")

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message} on {self.page.url}")
        dialog.dismiss()

    def frames(self) -> list:
        """Errors and titles recorded inside every frame."""
        found = []
        for frame in self.page.frames:
            try:
                state = frame.evaluate(FRAME_STATE)
            except PlaywrightError:
                continue
            found += [f"frame error: {e}" for e in state["errors"]]
            found += [f"frame title set: {t!r}" for t in state["titles"]]
        return found

    def check(self, where: str) -> None:
        """Note anything script from data may have done since the last check (every frame is read)."""
        problems = self.dialogs + self.errors + self.frames()
        if self.page.title() != APP_TITLE:
            problems.append(f"document.title is {self.page.title()!r}, not {APP_TITLE!r}")
        if self.page.locator('[data-testid="stException"]').count():
            problems.append("a traceback on the page")
        self.failures += [f"{where}: {problem}" for problem in dict.fromkeys(problems)]
        self.dialogs.clear()
        self.errors.clear()

    def expect(self, condition: bool, message: str) -> None:
        """Note a failed expectation and go on to the other pages."""
        if not condition:
            self.failures.append(message)


def _each_frame(page: Page, script: str, arg=None) -> list:
    results = []
    for frame in page.frames:
        try:
            results.append(frame.evaluate(script, arg))
        except PlaywrightError as exc:
            if "detached" not in str(exc) and "destroyed" not in str(exc):
                raise
    return results


def _count(page: Page, selector: str) -> int:
    return sum(_each_frame(page, f"() => document.querySelectorAll({selector!r}).length"))


def _wait_for(page: Page, selector: str, at_least: int) -> int:
    # The count that ended the wait is the one returned: counting again could meet a frame a rerun
    # is replacing (it counts 0) and report a map that did draw as missing.
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    drawn = _count(page, selector)
    while drawn < at_least and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        drawn = _count(page, selector)
    return drawn


def _drawn(
    page: Page, watch: Watch, at_least: int, where: str, selector: str = "path.leaflet-interactive"
) -> None:
    drawn = _wait_for(page, selector, at_least)
    if drawn < at_least:
        watch.failures.append(f"{where}: only {drawn} shapes drawn, not {at_least}\n{_why_not(watch)}")


def _why_not(watch: Watch) -> str:
    """What the page showed and loaded when a map did not draw: the figures to find the cause."""
    page = watch.page
    frames = _each_frame(page, FRAME_MAPS)
    alerts = page.locator('[data-testid="stAlert"], [data-testid="stException"]').all_inner_texts()
    running = page.locator('[data-testid="stStatusWidget"]').is_visible()
    return (
        f"frames (url, Leaflet loaded, maps, shapes): {frames}\nalerts: {alerts}\napp running: {running}\n"
        f"requests still pending: {sorted(set(watch.pending.values()))}\nfailed: {watch.failed_requests}"
    )


def _tooltips(page: Page) -> str:
    # The run that gives the maps their last arguments is over and the frames have drawn them.
    _settled(page, quiet_s=QUIET_S)
    return "\n".join(text for texts in _each_frame(page, OPEN_TOOLTIPS) for text in texts)


def _open(page: Page, label: str) -> None:
    _idle(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text(label, exact=True).click()
    page.get_by_role("heading", name=label).first.wait_for(timeout=DRAW_TIMEOUT_MS)
    _settled(page, quiet_s=QUIET_S)


def _shown_as_typed(watch: Watch, texts: str, where: str, wanted=PAYLOADS) -> None:
    missing = [p for p in wanted if p not in texts]
    watch.expect(not missing, f"{where}: {missing} not shown as typed in:\n{texts}")


def _click_at(page: Page, target: tuple[str, float, float], done, *, at_least: int) -> None:
    """Click a region (key, lon, lat inside it) or ZIP circle on the only map once, and expect ``done``."""
    key, lon, lat = target
    _settled(page)  # the run that draws this map is over: the map clicked is the one that stays
    frame = next((f for f in page.frames if _safe_count(f, "path.leaflet-interactive") >= at_least), None)
    assert frame is not None, f"the map to click {key} on was not drawn"
    frame.frame_element().scroll_into_view_if_needed()
    x, y = frame.evaluate(POINT_OF, [key, lon, lat])
    frame.locator(".leaflet-container").click(position={"x": x, "y": y}, timeout=10_000)
    try:
        done.wait_for(timeout=15_000)
    except PlaywrightError as exc:
        raise AssertionError(f"clicking {key} once did not lead on") from exc


def _safe_count(frame, selector: str) -> int:
    try:
        return frame.locator(selector).count()
    except PlaywrightError:
        return 0


def _idle(page: Page) -> None:
    """Wait until the app has finished its rerun: a click during one can be lost on a busy machine."""
    page.wait_for_timeout(500)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=DRAW_TIMEOUT_MS)


def _choose(page: Page, label: str, option: str) -> None:
    _idle(page)
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_no_script_from_the_book_runs_on_any_page(app_url: str, browser, hostile: dict) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    context.add_init_script(GUARD_SCRIPT)
    page = context.new_page()
    watch = Watch(page)
    try:
        _sign_in(page, app_url, "")
        watch.check("overview")
        _sales_by_region(page, watch, hostile)
        _trade_areas(page, watch, hostile)
        _nearby(page, watch, hostile)
        _campaigns(page, watch, hostile)
        _territories(page, watch, hostile)
        for label, shapes in (("Data", 1), ("Users and audit log", 0)):
            _open(page, label)
            _drawn(page, watch, shapes, label)
            _tooltips(page)
            watch.check(label)
    except (AssertionError, PlaywrightError) as exc:
        watch.failures.append(f"stopped at {page.url}: {exc}")
    finally:
        context.close()
    assert watch.failures == [], "\n".join(watch.failures)


def _sales_by_region(page: Page, watch: Watch, hostile: dict) -> None:
    """States, then the hostile state's counties, ZIPs and accounts; territories and trade areas."""
    _open(page, "Sales by region")
    _drawn(page, watch, 50, "states")
    texts = _tooltips(page)
    watch.expect(any(p in texts for p in PAYLOADS), f"no state tooltip shows a hostile name:\n{texts}")
    watch.check("sales by region: states")
    _click_at(page, hostile["state"], page.get_by_text("United States ›"), at_least=50)
    _drawn(page, watch, 5, "counties")
    _tooltips(page)
    watch.check("sales by region: counties")
    _click_at(page, hostile["county"], page.get_by_text(re.compile(r"United States › .+ › ")), at_least=5)
    _drawn(page, watch, 1, "ZIPs")
    _tooltips(page)
    watch.check("sales by region: ZIPs")
    _click_at(page, hostile["zip"], page.get_by_text(f"accounts in ZIP {hostile['zip'][0]}"), at_least=1)
    watch.check("sales by region: accounts")
    for depth in (2, 1):
        _idle(page)
        page.get_by_role("button", name="Up one level").click()
        page.get_by_text(re.compile(r"^United States" + r" › [^›]+" * depth + "$")).wait_for(
            timeout=DRAW_TIMEOUT_MS
        )
    _idle(page)
    page.get_by_role("button", name="Up one level").click()
    page.get_by_text("Click a state, county or ZIP on the map").wait_for(timeout=DRAW_TIMEOUT_MS)
    for level in ("Territories (active plan)", "Trade areas (nearest branch)"):
        _choose(page, "Level", level)
        _drawn(page, watch, 5, level)
        _tooltips(page)
        watch.check(f"sales by region: {level}")


def _trade_areas(page: Page, watch: Watch, hostile: dict) -> None:
    """The first branch (a hostile name), with the hostile accounts inside its rings, opened by its link."""
    _open(page, "Trade areas")
    page.goto(f"{page.url.split('?')[0]}?branch={hostile['branch_id']}")
    page.get_by_role("heading", name="Trade areas").first.wait_for(timeout=DRAW_TIMEOUT_MS)
    # Its many accounts are clustered: bubbles, and the branch's marker.
    _drawn(page, watch, 1, "trade areas: account clusters", ".marker-cluster")
    _drawn(page, watch, 1, "trade areas: the branch")
    _shown_as_typed(watch, _tooltips(page), "trade area tooltips")
    _shown_as_typed(watch, page.locator("main").inner_text(), "trade area heading", [hostile["branch"]])
    watch.check("trade areas")


def _nearby(page: Page, watch: Watch, hostile: dict) -> None:
    """Nearby accounts at the hostile accounts."""
    _open(page, "Nearby accounts")
    field = page.get_by_label("Where are you? A ZIP, a city and state, or lat, lon")
    field.fill(f"{hostile['lat']}, {hostile['lon']}")
    field.press("Enter")
    page.get_by_text("25 nearest accounts").wait_for(timeout=DRAW_TIMEOUT_MS)
    _drawn(page, watch, 26, "nearby")
    _shown_as_typed(watch, _tooltips(page), "nearby tooltips")
    watch.check("nearby")


def _campaigns(page: Page, watch: Watch, hostile: dict) -> None:
    """The draw map, a state picked on the map, its audience, saved campaigns and their responses."""
    _open(page, "Campaigns")
    # The drawing tools draw on the offline basemap (canvas tiles); the responses map is interactive.
    _drawn(page, watch, 4, "campaign draw map", "canvas.leaflet-tile-loaded")
    _drawn(page, watch, 1, "campaign responses map")
    page.get_by_text("Pick states or counties by clicking on a map").click()
    _drawn(page, watch, 48 + 1, "campaign pick map")
    _tooltips(page)
    audience = page.get_by_test_id("stMetricLabel").get_by_text("Final audience")
    _click_at(page, hostile["state"], audience, at_least=48)
    _drawn(page, watch, 48 + 2, "audience map")
    _tooltips(page)
    watch.check("campaigns")


def _territories(page: Page, watch: Watch, hostile: dict) -> None:
    """Performance (with a territory picked), design (labels, legend, a unit's panel)."""
    _open(page, "Territory performance")
    _drawn(page, watch, 5, "territory performance")
    texts = _tooltips(page)
    watch.expect(any(p in texts for p in PAYLOADS), f"no territory tooltip shows a hostile name:\n{texts}")
    _click_at(page, ("", hostile["lon"], hostile["lat"]), page.get_by_text("Selected:"), at_least=5)
    watch.check("territory performance")
    _open(page, "Territory design")
    _drawn(page, watch, 1_000, "territory design")
    _shown_as_typed(watch, "\n".join(_each_frame(page, LABELS)), "territory labels and legend")
    _tooltips(page)
    _click_at(page, hostile["county"], page.get_by_label("Move to"), at_least=1_000)
    watch.check("territory design")
