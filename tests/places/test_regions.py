"""Shipped boundaries in the database, and point → region keys."""

from __future__ import annotations

import geopandas as gpd
import h3
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.config import PROJECT_DIR
from geo.places.regions import region_keys
from geo.store.bootstrap import Connections
from geo.store.boundaries import load_regions, read_boundaries
from geo.store.shipped_data import read_counties

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
