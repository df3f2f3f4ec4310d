"""Map builders: classification, legend, and assets served by the app, never a CDN."""

from __future__ import annotations

import collections
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

import geo.maps.base as base_module
from geo.config import PROJECT_DIR
from geo.maps.base import DISPLAY_TOLERANCE_DEG, VIEW_PIXELS, display_geometry
from geo.maps.classification import (
    CATEGORY_PALETTE,
    NO_ACCOUNTS_COLOR,
    NO_DATA_COLOR,
    PALETTE,
    class_colors,
    classify,
    distinct_colors,
    legend_entries,
)
from geo.maps.clicks import clicked_key, clicked_point, tapped_key
from geo.maps.controls import Legend
from geo.maps.region_maps import add_spots, choropleth_map, selection_map
from geo.places.geodesy import LOWER_48_BOUNDS
from geo.store.shipped_data import read_counties, read_states


@pytest.mark.parametrize(
    ("values", "scheme", "classes", "bins", "labels"),
    [
        ([1, 2, 3, 4, 5, 6, 7, 8], "quantiles", 4, [2, 4, 6, 8], [0, 0, 1, 1, 2, 2, 3, 3]),
        ([1.5, 2, 3, 4, 5, 6, 7, 8], "quantiles", 4, [2.75, 4.5, 6.25, 8], [0, 0, 1, 1, 2, 2, 3, 3]),
        ([1, 2, 2, 2, 2, 3, 40, 50], "quantiles", 4, [2, 12, 50], [0, 0, 0, 0, 0, 1, 2, 2]),
        ([0, 0, 10, 10], "quantiles", 5, [0, 10], [0, 0, 1, 1]),
        ([1, np.nan, 3], "equal_interval", 2, [1, 3], [0, -1, 1]),
        ([1, 2, 3, 4, np.nan], "equal_interval", 3, [2, 3, 4], [0, 0, 1, 2, -1]),
        ([np.nan, np.nan], "natural_breaks", 5, [], [-1, -1]),
    ],
)
def test_classify(values, scheme, classes, bins, labels) -> None:
    got_bins, got_labels = classify(pd.Series(values, dtype=float), scheme=scheme, classes=classes)
    np.testing.assert_allclose(got_bins, bins)
    assert list(got_labels) == labels


def test_classify_refuses_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="Unknown classification 'jenks'"):
        classify(pd.Series([1.0]), scheme="jenks", classes=3)


def test_class_colors_run_light_to_dark() -> None:
    assert class_colors(0) == []
    assert class_colors(1) == [PALETTE[0]]
    assert class_colors(5)[0] == PALETTE[0] and class_colors(5)[-1] == PALETTE[-1]
    assert len(set(class_colors(5))) == 5


def test_legend_entries_label_ranges_and_no_data() -> None:
    entries = legend_entries(np.array([10.0, 25.5]), ["#a", "#b"], pd.Series([2.0, 10.0, 25.5, np.nan]))
    assert entries == [("#a", "2 – 10"), ("#b", "10 – 25.5"), (NO_DATA_COLOR, "no data")]


def test_legend_entries_of_rates_below_one_keep_their_digits() -> None:
    """Regression: customers per 1,000 households read "0 – 0.0" and "0.0 – 0.0"."""
    entries = legend_entries(np.array([0.0123, 0.025]), ["#a", "#b"], pd.Series([0.004, 0.0123, 0.025]))
    assert entries == [("#a", "0.004 – 0.012"), ("#b", "0.012 – 0.025")]


def _regions() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": ["01", "02", "03"],
            "name": ["Alpha", "Beta <b>", "Gamma"],
            "accounts": [0, 5, 50],
        },
        geometry=[box(-100, 40, -99, 41), box(-99, 40, -98, 41), box(-98, 40, -97, 41)],
        crs="EPSG:4326",
    )


def test_choropleth_loads_only_app_served_assets() -> None:
    html = (
        choropleth_map(
            _regions(),
            value="accounts",
            value_label="Accounts",
            tooltip={"name": "State", "accounts": "Accounts"},
        )
        .get_root()
        .render()
    )
    sources = re.findall(r'<script[^>]+src="([^"]+)"', html) + re.findall(r'<link[^>]+href="([^"]+)"', html)
    assert sources, "the map loads no Leaflet at all"
    assert all(src.startswith("/app/static/vendor/") for src in sources), sources
    assert "d3" not in " ".join(sources)


def test_choropleth_has_legend_tooltips_and_one_feature_per_region() -> None:
    fmap = choropleth_map(
        _regions(),
        value="accounts",
        value_label="Accounts",
        tooltip={"name": "State", "accounts": "Accounts"},
        classes=3,
    )
    html = fmap.get_root().render()
    legends = [child for child in fmap._children.values() if isinstance(child, Legend)]
    assert len(legends) == 1 and "gcrm-legend" in html
    assert legends[0].body.startswith("<strong>Accounts</strong>")
    assert legends[0].body.count("background:") == 3
    assert "Beta \\u0026lt;b\\u0026gt;" in html  # HTML-escaped text, in a script-safe JSON string
    assert html.count('"type": "Feature"') + html.count('"type":"Feature"') >= 3
    assert "State:" in html and "Accounts:" in html


def test_regions_without_accounts_are_drawn_apart_and_the_classes_spread_over_the_others() -> None:
    """A manager's ten counties among twenty of the country's zeros: five classes over the ten."""
    counts = [0] * 20 + list(range(1, 11))
    regions = gpd.GeoDataFrame(
        {"key": [f"{n:02d}" for n in range(30)], "name": [f"R{n}" for n in range(30)], "accounts": counts},
        geometry=[box(-100 + n, 40, -99 + n, 41) for n in range(30)],
        crs="EPSG:4326",
    )
    tooltip = {"name": "County", "accounts": "Accounts"}

    def fills(fmap) -> list[str]:
        return re.findall(r'"fill":\s*"(#[0-9a-f]{6})"', fmap.get_root().render())

    classed_with_zeros = fills(
        choropleth_map(regions, value="accounts", value_label="Accounts", tooltip=tooltip)
    )
    assert len(set(classed_with_zeros[20:])) < 5, (
        "the zeros no longer crowd the classes: the test shows nothing"
    )
    fmap = choropleth_map(
        regions, value="accounts", value_label="Accounts", tooltip=tooltip, empty=regions["accounts"] == 0
    )
    drawn = fills(fmap)
    assert drawn[:20] == [NO_ACCOUNTS_COLOR] * 20
    assert len(set(drawn[20:])) == 5 and NO_ACCOUNTS_COLOR not in drawn[20:]
    (legend,) = [child for child in fmap._children.values() if isinstance(child, Legend)]
    assert legend.body.count("background:") == 6 and "no accounts" in legend.body
    assert "1 – 2" in legend.body, "the lowest class starts at the lowest value held, not at 0"


CLICKABLE = gpd.GeoDataFrame(
    {"key": ["A", "B", "Z"]},
    geometry=[box(-100, 40, -99, 41), box(-99, 40, -98, 41), shapely.Point(-90.0, 35.0)],
    crs="EPSG:4326",
)


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        (None, None),
        ({"last_object_clicked": None}, None),
        ({"last_object_clicked": {"lat": 40.5, "lng": -99.5}}, "A"),
        ({"last_object_clicked": {"lat": 40.5, "lng": -98.2}}, "B"),
        ({"last_object_clicked": {"lat": 45.0, "lng": -99.5}}, None),
        ({"last_object_clicked": {"lat": 35.01, "lng": -90.0}}, "Z"),
        ({"last_object_clicked": {"lat": 35.5, "lng": -90.0}}, None),
    ],
)
def test_clicked_key_from_recorded_st_folium_returns(returned, expected) -> None:
    assert clicked_key(returned, CLICKABLE) == expected


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        (None, None),
        ({"last_clicked": None}, None),
        ({"last_clicked": {"lat": None, "lng": -87.6}}, None),
        ({"last_clicked": {"lat": 41.88, "lng": -87.63}}, (-87.63, 41.88)),
        ({"last_object_clicked": {"lat": 41.88, "lng": -87.63}}, None),
    ],
)
def test_clicked_point_from_recorded_st_folium_returns(returned, expected) -> None:
    point = clicked_point(returned)
    assert (None if point is None else (point.x, point.y)) == expected


def test_points_are_drawn_as_circles() -> None:
    zips = gpd.GeoDataFrame(
        {"key": ["60601", "60602"], "name": ["A", "B"], "accounts": [1, 5]},
        geometry=gpd.points_from_xy([-87.62, -87.63], [41.88, 41.89]),
        crs="EPSG:4326",
    )
    html = (
        choropleth_map(zips, value="accounts", value_label="Accounts", tooltip={"name": "ZIP"})
        .get_root()
        .render()
    )
    assert "new L.CircleMarker(latlng, opts)" in html


def test_legend_of_counts_does_not_overlap() -> None:
    values = pd.Series([1, 1, 2, 3, 5, 58], dtype=float)
    entries = legend_entries(np.array([1.0, 2.0, 3.0, 58.0]), ["#a", "#b", "#c", "#d"], values)
    assert [label for _, label in entries] == ["1", "2", "3", "4 – 58"]


def test_spots_are_outlined_with_their_own_legend() -> None:
    regions = _regions().assign(spot=["hot", "not significant", "cold"])
    fmap = choropleth_map(regions, value="accounts", value_label="Accounts", tooltip={"name": "State"})
    add_spots(fmap, regions)
    legends = [child for child in fmap._children.values() if isinstance(child, Legend)]
    assert len(legends) == 2
    assert "Hot spot (Gi*, FDR 5%): 1" in legends[1].body and "Cold spot (Gi*, FDR 5%): 1" in legends[1].body
    html = fmap.get_root().render()
    assert '"topright"' in html and "#d7301f" in html


def test_selection_map_fills_the_picked_regions_and_names_each() -> None:
    regions = gpd.GeoDataFrame(
        {"code": ["01", "02"], "name": ["Left", "Right"]},
        geometry=[box(-100, 40, -99, 41), box(-99, 40, -98, 41)],
        crs="EPSG:4326",
    )
    html = selection_map(regions, {"02"}).get_root().render()
    assert re.search(r'"code":\s*"02",\s*"name":\s*"Right",\s*"picked":\s*true', html)
    assert re.search(r'"code":\s*"01",\s*"name":\s*"Left",\s*"picked":\s*false', html)
    assert "#253494" in html and "Right" in html
    assert clicked_key({"last_object_clicked": {"lat": 40.5, "lng": -98.5}}, regions, field="code") == "02"


def test_selection_map_fits_its_regions_however_many_there_are() -> None:
    """Regression: more than 50 regions (Texas has 254 counties) were framed as the lower 48."""
    many = gpd.GeoDataFrame(
        {"code": [f"{i:03d}" for i in range(60)], "name": [f"County {i}" for i in range(60)]},
        geometry=[box(-100 + i * 0.1, 30, -99.9 + i * 0.1, 30.1) for i in range(60)],
        crs="EPSG:4326",
    )
    html = selection_map(many, set()).get_root().render()
    assert re.search(r"fitBounds\(\s*\[\[30\.0, -100\.0\], \[30\.1, -94\.0\]\]", html)


def _touching_pairs(areas: gpd.GeoSeries) -> list[tuple[int, int]]:
    geometry = areas.to_numpy()
    left, right = shapely.STRtree(geometry).query(geometry, predicate="intersects")
    return [(int(a), int(b)) for a, b in zip(left, right, strict=True) if a < b]


def test_distinct_colors_colour_the_most_connected_first_and_neighbours_apart() -> None:
    grid = gpd.GeoSeries([box(x, y, x + 1, y + 1) for y in range(3) for x in range(3)])
    colours = distinct_colors(grid)
    # The centre touches all 8, the edge cells 5, the corners 3 (corners count as touching).
    assert [CATEGORY_PALETTE.index(c) for c in colours] == [3, 1, 3, 2, 0, 2, 3, 1, 3]
    assert all(colours[a] != colours[b] for a, b in _touching_pairs(grid))
    assert distinct_colors(grid) == colours


def test_distinct_colors_see_neighbours_that_share_no_vertex() -> None:
    """A box resting on a longer one (a T-junction) touches it, though they share no vertex."""
    areas = gpd.GeoSeries([box(0, 0, 3, 1), box(1, 1, 2, 2), box(5, 5, 6, 6)])
    assert [CATEGORY_PALETTE.index(c) for c in distinct_colors(areas)] == [0, 1, 0]
    assert distinct_colors(gpd.GeoSeries([], dtype="geometry")) == []


@pytest.fixture(scope="module")
def illinois() -> gpd.GeoSeries:
    counties = read_counties(PROJECT_DIR / "data")
    return counties.loc[counties["state_code"] == "17", "geometry"].reset_index(drop=True)


def test_distinct_colors_keep_touching_counties_apart(illinois: gpd.GeoSeries) -> None:
    colours = distinct_colors(illinois)
    pairs = _touching_pairs(illinois)
    assert len(pairs) > len(illinois) and all(colours[a] != colours[b] for a, b in pairs)


def _gaps_and_overlaps(shapes: gpd.GeoSeries, neighbours: list[tuple[int, int]]) -> tuple[float, float]:
    """Holes in the union of the shapes (deg²), and the area neighbours share (deg²)."""
    union = shapely.union_all(shapes.to_numpy())
    gaps = sum(shapely.Polygon(ring).area for part in shapely.get_parts(union) for ring in part.interiors)
    left, right = np.array(neighbours).T
    shared = shapely.intersection(shapes.to_numpy()[left], shapes.to_numpy()[right])
    return gaps, float(shapely.area(shared).sum())


@pytest.mark.parametrize("view", ["illinois", "lower 48"])
def test_display_geometry_keeps_neighbouring_counties_meeting(illinois: gpd.GeoSeries, view: str) -> None:
    """Counties simplified one by one opened gaps and overlaps between neighbours; as a coverage, none."""
    bounds = tuple(illinois.total_bounds) if view == "illinois" else LOWER_48_BOUNDS
    neighbours = _touching_pairs(illinois)
    assert _gaps_and_overlaps(illinois, neighbours) == (0, 0)
    shown = display_geometry(illinois, bounds)
    assert (
        shapely.get_num_coordinates(shown.to_numpy()).sum()
        < shapely.get_num_coordinates(illinois.to_numpy()).sum()
    )
    assert shown.is_valid.all()
    gaps, overlaps = _gaps_and_overlaps(shown, neighbours)
    assert gaps < 1e-9 and overlaps < 1e-9


@pytest.mark.parametrize("read", [read_states, read_counties], ids=["states", "counties"])
def test_display_geometry_sends_about_what_simplifying_one_by_one_sent(read) -> None:
    """Keeping every vertex where neighbours meet costs at most 10 % more GeoJSON at the lower-48 view."""
    shapes = read(PROJECT_DIR / "data").geometry
    minx, miny, maxx, maxy = LOWER_48_BOUNDS
    tolerance = max(DISPLAY_TOLERANCE_DEG, max(maxx - minx, maxy - miny) / VIEW_PIXELS)
    one_by_one = shapely.set_precision(
        shapes.simplify(tolerance, preserve_topology=True).to_numpy(), tolerance / 10
    )
    shown = display_geometry(shapes, LOWER_48_BOUNDS)
    assert len(shown.to_json()) <= 1.1 * len(gpd.GeoSeries(one_by_one, crs=shapes.crs).to_json())


def test_display_geometry_opens_no_gap_between_the_counties_of_the_lower_48() -> None:
    """Snapping each polygon alone to the grid opened gaps where counties meet; snapping each vertex, none."""
    counties = read_counties(PROJECT_DIR / "data").geometry.reset_index(drop=True)
    mismatched = ~shapely.is_empty(shapely.coverage_invalid_edges(counties.to_numpy()))
    neighbours = [(a, b) for a, b in _touching_pairs(counties) if not (mismatched[a] or mismatched[b])]
    assert max(_gaps_and_overlaps(counties, neighbours)) < 1e-9
    gaps, overlaps = _gaps_and_overlaps(display_geometry(counties, LOWER_48_BOUNDS), neighbours)
    assert gaps < 1e-9 and overlaps < 1e-9


def test_display_geometry_simplifies_the_same_shapes_at_the_same_view_once(
    illinois: gpd.GeoSeries, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every session drawing the shared counties reused to simplify them again (a fifth of map time)."""
    runs = []
    real = base_module._simplified
    monkeypatch.setattr(base_module, "_simplified", lambda *args: runs.append(args) or real(*args))
    monkeypatch.setattr(base_module, "_simplified_cache", collections.OrderedDict())
    bounds = tuple(illinois.total_bounds)
    first = display_geometry(illinois, bounds)
    again = display_geometry(illinois.copy(), bounds)
    subset = display_geometry(illinois.iloc[:10], bounds)
    assert len(runs) == 2, "the same shapes again were simplified anew; a subset is a coverage of its own"
    assert again.geom_equals_exact(first, tolerance=0).all() and list(again.index) == list(illinois.index)
    assert list(subset.index) == list(illinois.index[:10])
    rebuilt = gpd.GeoSeries(shapely.from_wkb(shapely.to_wkb(illinois.to_numpy())), crs=illinois.crs)
    display_geometry(rebuilt, bounds)
    display_geometry(illinois, LOWER_48_BOUNDS)
    assert len(runs) == 4, "equal shapes that are other objects, or another view, are simplified anew"


def test_the_national_view_offers_to_show_every_region() -> None:
    """Alaska and Hawaii lie outside the contiguous view the map opens on: one button reaches them."""
    national = (
        choropleth_map(_regions(), value="accounts", value_label="Accounts", tooltip={"name": "State"})
        .get_root()
        .render()
    )
    zoomed = (
        choropleth_map(
            _regions(),
            value="accounts",
            value_label="Accounts",
            tooltip={"name": "State"},
            bounds=(-90, 40, -85, 43),
        )
        .get_root()
        .render()
    )
    assert "gcrm-fit" in national and "map.fitBounds(bounds" in national
    assert "gcrm-fit" not in zoomed


def test_the_accounts_of_a_zip_are_points_coloured_by_status_with_escaped_tooltips() -> None:
    from geo.maps.point_maps import STATUS_COLORS, zip_accounts_map

    accounts = pd.DataFrame(
        {
            "external_id": ["A-1", "A-2", "A-3"],
            "name": ["<script>alert(1)</script>", "Plain Co", "Unplaced Ltd"],
            "status": ["customer", "churned", "prospect"],
            "revenue": [1234.6, 0.0, 0.0],
            "lon": [-87.63, -87.62, None],
            "lat": [41.88, 41.89, None],
        }
    )
    html = zip_accounts_map(accounts).get_root().render()
    assert html.count("L.circleMarker(") == 2
    assert STATUS_COLORS["customer"] in html and STATUS_COLORS["churned"] in html
    assert "<script>alert(1)</script>" not in html and "&#36;1,235 last 12 months" in html


MARKERS = pd.DataFrame({"key": ["A", "B"], "lon": [-87.60, -87.70], "lat": [41.90, 41.80]})


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        (
            {
                "last_clicked": {"lat": 41.9001, "lng": -87.6001},
                "last_object_clicked": {"lat": 41.9001, "lng": -87.6001},
            },
            "A",
        ),
        (
            {
                "last_clicked": {"lat": 41.8, "lng": -87.69},
                "last_object_clicked": {"lat": 41.8, "lng": -87.69},
            },
            "B",
        ),
        (
            {
                "last_clicked": {"lat": 41.85, "lng": -87.65},
                "last_object_clicked": {"lat": 41.9001, "lng": -87.6001},
            },
            None,
        ),
        ({"last_clicked": {"lat": 41.85, "lng": -87.65}, "last_object_clicked": None}, None),
        (
            {
                "last_clicked": {"lat": 41.8501, "lng": -87.6501},
                "last_object_clicked": {"lat": 41.8501, "lng": -87.6501},
            },
            None,
        ),
        (None, None),
    ],
    ids=["marker A", "marker B", "map after a marker", "map", "the position marker", "nothing yet"],
)
def test_a_tapped_marker_is_told_from_a_click_on_the_map(returned, expected) -> None:
    assert tapped_key(returned, MARKERS, position=(-87.65, 41.85)) == expected
