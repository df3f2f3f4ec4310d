"""Shipped boundaries in the database, and point → region keys."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from geo.config import PROJECT_DIR
from geo.places.geodesy import geodesic_segmentize
from geo.places.regions import h3_cell_labels, h3_cover, h3_interior, region_keys
from geo.store.bootstrap import Connections
from geo.store.boundaries import load_regions, read_boundaries
from geo.store.shipped_data import read_cities, read_counties

DATA_DIR = PROJECT_DIR / "data"


@pytest.fixture(scope="module")
def counties() -> gpd.GeoDataFrame:
    return read_counties(DATA_DIR)


def test_boundaries_loaded_with_hierarchy(connections: Connections) -> None:
    with connections.app.transaction(user="t") as cur:
        cur.execute("SELECT level, count(*) FROM regions GROUP BY level ORDER BY level")
        counts = dict(cur.fetchall())
        cur.execute(
            "SELECT count(*) FROM regions c LEFT JOIN regions s"
            " ON s.level = 'state' AND s.code = c.parent_code"
            " WHERE c.level = 'county' AND (c.parent_level <> 'state' OR s.code IS NULL"
            " OR left(c.code, 2) <> s.code)"
        )
        orphans = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*) FROM regions WHERE NOT ST_IsValid(geom) OR ST_IsEmpty(geom)"
            " OR GeometryType(geom) <> 'MULTIPOLYGON' OR ST_SRID(geom) <> 4326"
        )
        bad_geometry = cur.fetchone()[0]
    assert counts["county"] >= 3_100
    assert counts["state"] >= 51
    assert orphans == 0
    assert bad_geometry == 0


def test_shipped_boundaries_match_the_database(connections: Connections) -> None:
    shipped = read_boundaries(DATA_DIR)
    stored = load_regions(connections.app, "county", user="t")
    assert sorted(stored["code"]) == sorted(shipped.loc[shipped["level"] == "county", "code"])
    cook = stored.set_index("code").loc["17031"]
    assert (cook["name"], cook["parent_name"]) == ("Cook", "Illinois")


def test_region_keys_inside_near_coast_far_and_missing(counties: gpd.GeoDataFrame) -> None:
    points = gpd.GeoSeries(
        [
            Point(-87.6298, 41.8781),  # Chicago: Cook County, IL
            Point(-122.4194, 37.7749),  # San Francisco
            Point(-70.93, 42.46),  # just off the Massachusetts shore (Essex County)
            Point(-40.0, 30.0),  # mid-Atlantic: no county within reach
            None,
        ],
        index=[10, 11, 12, 13, 14],
        crs="EPSG:4326",
    )
    keys = region_keys(points, counties)
    assert list(keys.index) == [10, 11, 12, 13, 14]
    assert keys.loc[10, "county_fips"] == "17031" and keys.loc[10, "state_fips"] == "17"
    assert keys.loc[11, "county_fips"] == "06075"
    assert keys.loc[12, "county_fips"] == "25009"
    assert keys.loc[13, ["state_fips", "county_fips"]].isna().all()
    assert keys.loc[14].isna().all()
    assert keys.loc[10, "h3_r7"] == h3.latlng_to_cell(41.8781, -87.6298, 7)
    assert {h3.get_resolution(keys.loc[11, f"h3_r{r}"]) for r in (5, 7, 9)} == {5, 7, 9}


def test_region_keys_of_no_points(counties: gpd.GeoDataFrame) -> None:
    keys = region_keys(gpd.GeoSeries([], crs="EPSG:4326"), counties)
    assert keys.empty
    assert list(keys.columns) == ["state_fips", "county_fips", "h3_r5", "h3_r7", "h3_r9"]
    assert isinstance(keys, pd.DataFrame)


def test_h3_cover_holds_the_cell_of_every_point_inside_a_geodesic_polygon() -> None:
    """The prefilter of drawn campaign shapes must never lose an account the exact test keeps."""
    strip = shapely.Polygon([(-120, 48.0), (-100, 48.0), (-100, 48.5), (-120, 48.5)])
    densified = geodesic_segmentize(strip, 500.0)
    rng = np.random.default_rng(5)
    lon = rng.uniform(-120, -100, 20_000)
    lat = rng.uniform(47.9, 49.1, 20_000)
    inside = shapely.contains_xy(densified, lon, lat)
    cells = {h3.latlng_to_cell(y, x, 5) for x, y in zip(lon[inside], lat[inside], strict=True)}
    cover = h3_cover(densified, 5, max_cells=2_000)
    assert cover == sorted(set(cover))
    assert cells <= set(cover)
    flat = h3_cover(strip, 5, max_cells=2_000)
    assert not cells <= set(flat), "the straight-edged strip misses the geodesic's bulge: the check has teeth"
    tiny = shapely.box(-87.6300, 41.8800, -87.6299, 41.8801)
    assert h3.latlng_to_cell(41.88005, -87.62995, 5) in h3_cover(tiny, 5, max_cells=10)
    assert h3_cover(densified, 5, max_cells=50) is None


def test_every_point_of_an_interior_cell_lies_inside_the_geodesic_polygon() -> None:
    """Accounts of interior cells skip the geometric test: no point of such a cell may lie outside."""
    strip = geodesic_segmentize(
        shapely.Polygon([(-120, 48.0), (-100, 48.0), (-100, 48.5), (-120, 48.5)]), 500.0
    )
    interior = set(h3_interior(strip, 7))
    assert len(interior) > 1_000
    rng = np.random.default_rng(8)
    lon = rng.uniform(-120.2, -99.8, 200_000)
    lat = rng.uniform(47.8, 49.2, 200_000)
    cells = np.array([h3.latlng_to_cell(y, x, 7) for x, y in zip(lon, lat, strict=True)])
    in_interior = np.isin(cells, list(interior))
    assert in_interior.sum() > 10_000
    assert shapely.contains_xy(strip, lon[in_interior], lat[in_interior]).all()
    assert h3_interior(shapely.box(-87.6300, 41.8800, -87.6299, 41.8801), 7) == []


PLACES = gpd.GeoDataFrame(
    {"name": ["Springfield", "Chicago", "Peoria"], "state": ["IL", "IL", "IL"]},
    geometry=[Point(-89.650, 39.798), Point(-87.630, 41.878), Point(-89.589, 40.694)],
    crs="EPSG:4326",
)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (h3.latlng_to_cell(39.80, -89.64, 7), "Near Springfield, IL"),
        (h3.latlng_to_cell(41.90, -87.65, 5), "Near Chicago, IL"),
        (h3.latlng_to_cell(40.60, -89.60, 6), "Near Peoria, IL"),
        (h3.latlng_to_cell(40.30, -89.62, 7), "Near Peoria, IL"),
        ("not a cell", "not a cell"),
        (None, None),
    ],
)
def test_h3_cells_are_named_by_the_place_nearest_their_centre(cell: str, expected: str) -> None:
    assert list(h3_cell_labels([cell], PLACES)) == [expected]


def test_h3_cell_labels_keep_the_index_and_order_and_use_the_shipped_cities() -> None:
    cells = pd.Series(
        [h3.latlng_to_cell(41.88, -87.63, 7), h3.latlng_to_cell(39.80, -89.65, 7)], index=["a", "b"]
    )
    labels = h3_cell_labels(cells, read_cities(PROJECT_DIR / "data"))
    assert labels.to_dict() == {"a": "Near Chicago, IL", "b": "Near Springfield, IL"}
    assert h3_cell_labels(cells, PLACES.iloc[:0]).tolist() == cells.tolist()
