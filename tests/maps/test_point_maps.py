"""Account points of a region or a trade area: clustered when many, escaped, the picked one apart."""

from __future__ import annotations

import html
import json
import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import box
from support.payloads import HOSTILE_TEXTS

from geo.config import PROJECT_DIR
from geo.maps.base import MAX_ZOOM, base_map
from geo.maps.clicks import clicked_point_key
from geo.maps.point_maps import (
    CLUSTER_ABOVE,
    PICKED_PANE,
    STATUS_COLORS,
    add_account_points,
    trade_area_map,
    zip_accounts_map,
)

HOSTILE_NAME = "<script>alert(1)</script>${x}`"
"""A name that would run as HTML, open a substitution and end a template literal."""
LEAKS = ("<script>alert", "${x}", "${alert", "<img", "<svg", "{{7*7}}", "C:\\users")
"""A payload that reached the map's script unescaped."""


def _accounts(count: int, names: tuple[str, ...] = (HOSTILE_NAME,)) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "external_id": [f"A-{i}" for i in range(count)],
            "lon": [-87.70 + i / 5_000 for i in range(count)],
            "lat": [41.85 + (i % 7) / 5_000 for i in range(count)],
            "name": [names[i % len(names)] for i in range(count)],
            "status": [("customer", "prospect", "churned")[i % 3] for i in range(count)],
            "revenue": [1_234.4 * (i % 3) for i in range(count)],
        }
    )


def _sources(rendered: str) -> list[str]:
    return re.findall(r'<script[^>]+src="([^"]+)"', rendered) + re.findall(
        r'<link[^>]+href="([^"]+)"', rendered
    )


def _cluster_rows(rendered: str) -> list[list]:
    """The points a cluster builds in the browser (the array FastMarkerCluster's script holds)."""
    return json.loads(re.search(r"var data = (\[.*?\]\]);", rendered).group(1))


def test_above_the_threshold_the_accounts_are_clustered_by_the_vendored_script() -> None:
    rendered = zip_accounts_map(_accounts(CLUSTER_ABOVE + 1)).get_root().render()
    assert "L.markerClusterGroup(" in rendered
    assert "/app/static/vendor/leaflet-markercluster/leaflet.markercluster.js" in _sources(rendered)
    assert {
        "/app/static/vendor/leaflet-markercluster/MarkerCluster.css",
        "/app/static/vendor/leaflet-markercluster/MarkerCluster.Default.css",
    } <= set(_sources(rendered))
    assert all(src.startswith("/app/static/vendor/") for src in _sources(rendered)), _sources(rendered)
    for src in _sources(rendered):
        assert (PROJECT_DIR / "static" / "vendor" / src.removeprefix("/app/static/vendor/")).is_file(), src
    rows = _cluster_rows(rendered)
    assert len(rows) == CLUSTER_ABOVE + 1
    assert {row[2] for row in rows} == set(STATUS_COLORS.values())
    assert rendered.count("bindTooltip(") == 1, "the points are built in the browser, not one by one"
    assert f'"maxZoom": {MAX_ZOOM}' in rendered, "Leaflet.markercluster refuses a map without a maxZoom"


def test_at_the_threshold_and_below_the_accounts_are_plain_points() -> None:
    rendered = zip_accounts_map(_accounts(CLUSTER_ABOVE)).get_root().render()
    assert "markerClusterGroup" not in rendered and "markercluster" not in " ".join(_sources(rendered))
    assert rendered.count("L.circleMarker(") == CLUSTER_ABOVE


@pytest.mark.parametrize("count", [3, CLUSTER_ABOVE + 5])
def test_tooltips_give_name_status_and_revenue_escaped(count: int) -> None:
    names = (HOSTILE_NAME, *HOSTILE_TEXTS)
    rendered = zip_accounts_map(_accounts(count, names)).get_root().render()
    leaked = [sign for sign in LEAKS if sign in rendered]
    assert not leaked, leaked
    if count > CLUSTER_ABOVE:
        texts = [row[3] for row in _cluster_rows(rendered)]
    else:
        texts = re.findall(r"bindTooltip\(\s*`<div>\s*(.*?)\s*</div>`", rendered, flags=re.DOTALL)
        assert rendered.count("`") == 2 * count, "a backtick in a name ended a template literal"
    assert len(texts) == count
    assert not any(set("`$\\{}<>") & set(text) for text in texts)
    shown = [html.unescape(text) for text in texts]
    assert shown[0] == f"{HOSTILE_NAME} (customer, $0 last 12 months)"
    assert shown[1] == f"{names[1]} (prospect, $1,234 last 12 months)"


PICKED_MARKER = re.compile(
    r"L\.circleMarker\(\s*\[([-\d.]+), ([-\d.]+)\],\s*(\{[^}]*\})\s*\)\.addTo\(map_\w+\);\s*"
    r"circle_marker_\w+\.bindTooltip\(\s*`<div>\s*([^`]*?)\s*</div>`,\s*(\{[^}]*\})"
)
"""A circle marker with its tooltip: position, options, tooltip text, tooltip options."""


@pytest.mark.parametrize("count", [3, CLUSTER_ABOVE + 5])
def test_the_picked_account_is_drawn_apart_above_the_clusters_with_its_tooltip_open(count: int) -> None:
    accounts = _accounts(count)
    rendered = zip_accounts_map(accounts, picked="A-2").get_root().render()
    markers = [
        (
            float(lat),
            float(lon),
            json.loads(options),
            html.unescape(text),
            json.loads(re.sub(r",\s*}", "}", tip)),
        )
        for lat, lon, options, text, tip in PICKED_MARKER.findall(rendered)
    ]
    picked = [m for m in markers if m[2].get("pane") == PICKED_PANE]
    assert len(picked) == 1
    lat, lon, options, text, tip = picked[0]
    assert (lat, lon) == (accounts.lat[2], accounts.lon[2])
    assert options["radius"] > 7 and options["color"] == "#000000" and tip["permanent"] is True
    assert text == f"{HOSTILE_NAME} (churned, $2,469 last 12 months)"
    assert f'createPane(\n                "{PICKED_PANE}")' in rendered
    if count > CLUSTER_ABOVE:
        rows = _cluster_rows(rendered)
        assert len(rows) == count - 1 and [accounts.lat[2], accounts.lon[2]] not in [r[:2] for r in rows]
    else:
        assert len(markers) == count and sum(not m[4]["permanent"] for m in markers) == count - 1
    assert PICKED_PANE not in zip_accounts_map(accounts, picked="nobody").get_root().render()


def test_trade_area_accounts_are_clustered_when_many() -> None:
    accounts = _accounts(CLUSTER_ABOVE + 1)
    points = gpd.GeoDataFrame(
        accounts.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(accounts["lon"], accounts["lat"]),
        crs=4326,
    )
    area = gpd.GeoDataFrame(geometry=[box(-88, 41.5, -87.5, 42)], crs=4326)
    rendered = trade_area_map(area, points, shapely.Point(-87.7, 41.8), "Branch").get_root().render()
    rows = _cluster_rows(rendered)
    assert len(rows) == CLUSTER_ABOVE + 1
    assert (rows[0][0], rows[0][1]) == (accounts.lat[0], accounts.lon[0])
    few = trade_area_map(area, points.head(5), shapely.Point(-87.7, 41.8), "Branch").get_root().render()
    assert "markerClusterGroup" not in few and few.count("L.circleMarker(") == 5 + 1


POINTS = pd.DataFrame({"key": ["A", "B", "C"], "lon": [-87.60, -87.70, -87.70], "lat": [41.90, 41.80, 41.80]})


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        # Leaflet reports a click on a small circle marker at the marker's own position.
        ({"last_object_clicked": {"lat": 41.9, "lng": -87.6}}, "A"),
        ({"last_object_clicked": {"lat": 41.800001, "lng": -87.700001}}, "B"),
        # A cluster's bubble, a ZIP circle or a region: no account lies where it was clicked.
        ({"last_object_clicked": {"lat": 41.85, "lng": -87.65}}, None),
        ({"last_object_clicked": {"lat": 41.9001, "lng": -87.6}}, None),
        ({"last_clicked": {"lat": 41.9, "lng": -87.6}, "last_object_clicked": None}, None),
        (None, None),
    ],
)
def test_clicked_point_key_from_recorded_st_folium_returns(returned, expected) -> None:
    assert clicked_point_key(returned, POINTS) == expected
    assert clicked_point_key(returned, POINTS.iloc[:0]) is None


def test_a_map_may_keep_more_points_apart_than_the_cluster_threshold() -> None:
    fmap = base_map((-88, 41.5, -87.5, 42))
    add_account_points(fmap, _accounts(CLUSTER_ABOVE + 50), cluster_above=CLUSTER_ABOVE + 50)
    rendered = fmap.get_root().render()
    assert "markerClusterGroup" not in rendered and rendered.count("L.circleMarker(") == CLUSTER_ABOVE + 50
