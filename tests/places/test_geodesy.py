"""Geodesy: sphere distances, ground circles, search boxes, the radius search in SQL, the lower 48."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely

from geo.config import PROJECT_DIR
from geo.places.geodesy import (
    EARTH_RADIUS_M,
    LOWER_48_BOUNDS,
    geodesic_circle,
    geodesic_segmentize,
    haversine_m,
    search_boxes,
    within_lower_48,
    within_radius_sql,
)
from geo.store.bootstrap import Connections
from geo.store.shipped_data import read_states
from territories.book_alignment import LOWER_48_EXCLUDED

RNG_SEED = 5
CAPS = [
    (-87.63, 41.88, 50_000),  # Chicago
    (179.8, 52.0, 300_000),  # the Aleutians, across the antimeridian eastwards
    (-179.9, -16.5, 500_000),  # Fiji, across the antimeridian westwards
    (0.0, 89.5, 200_000),  # holds the North Pole
    (10.0, -88.0, 400_000),  # holds the South Pole
    (-60.0, 70.0, 1_000_000),  # high latitude, wide: a box of radius / cos(latitude) misses its sides
    (0.0, 0.0, 1_000_000),
]
"""Centre (lon, lat) and radius of the caps searched."""


def _destinations(lon: float, lat: float, distance_m: np.ndarray, bearing: np.ndarray) -> np.ndarray:
    """Points ``distance_m`` along ``bearing`` (radians) from (lon, lat) on the sphere, as (lon, lat)."""
    phi, lam, delta = np.radians(lat), np.radians(lon), distance_m / EARTH_RADIUS_M
    to_phi = np.arcsin(np.sin(phi) * np.cos(delta) + np.cos(phi) * np.sin(delta) * np.cos(bearing))
    to_lam = lam + np.arctan2(
        np.sin(bearing) * np.sin(delta) * np.cos(phi), np.cos(delta) - np.sin(phi) * np.sin(to_phi)
    )
    return np.column_stack([(np.degrees(to_lam) + 540) % 360 - 180, np.degrees(to_phi)])


def _in_boxes(points: np.ndarray, boxes: list[tuple[float, float, float, float]]) -> np.ndarray:
    x, y = points[:, 0], points[:, 1]
    return np.any([(x >= a) & (x <= c) & (y >= b) & (y <= d) for a, b, c, d in boxes], axis=0)


def test_haversine_known_distances() -> None:
    assert haversine_m(0, 0, 1, 0) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(-87.63, 41.88, -87.63, 41.88) == 0
    # Chicago → New York, about 1,145 km on the sphere.
    assert haversine_m(-87.6298, 41.8781, -74.0060, 40.7128) == pytest.approx(1_144_000, rel=0.01)


def test_geodesic_circle_radius_is_metres_on_the_ground() -> None:
    circle = geodesic_circle(-87.63, 41.88, 50_000)
    vertices = np.asarray(circle.exterior.coords)
    assert haversine_m(-87.63, 41.88, vertices[:, 0], vertices[:, 1]) == pytest.approx(50_000, rel=0.005)


@pytest.mark.parametrize(("lon", "lat", "radius_m"), CAPS)
def test_search_boxes_hold_the_whole_cap_and_little_more(lon: float, lat: float, radius_m: float) -> None:
    bearings = np.linspace(0, 2 * np.pi, 3_600, endpoint=False)
    rim = _destinations(lon, lat, np.full(len(bearings), float(radius_m)), bearings)
    boxes = search_boxes(lon, lat, radius_m)
    assert _in_boxes(rim, boxes).all()
    assert len(boxes) == (2 if abs(lon) > 179 else 1)
    if len(boxes) == 1 and boxes[0][0] > -180:
        west, south, east, north = boxes[0]
        assert (west, south, east, north) == pytest.approx(
            (rim[:, 0].min(), rim[:, 1].min(), rim[:, 0].max(), rim[:, 1].max()), abs=1e-3
        )


def test_a_search_box_holding_a_pole_spans_every_longitude() -> None:
    [(west, south, east, north)] = search_boxes(0.0, 89.5, 200_000)
    assert (west, east, north) == (-180.0, 180.0, 90.0)
    assert south == pytest.approx(89.5 - np.degrees(200_000 / EARTH_RADIUS_M), abs=1e-5)


def test_the_lower_48_bounds_are_the_tenth_degree_box_of_the_shipped_states() -> None:
    states = read_states(PROJECT_DIR / "data")
    west, south, east, north = states[~states["code"].isin(LOWER_48_EXCLUDED)].total_bounds
    assert (
        np.floor(west * 10) / 10,
        np.floor(south * 10) / 10,
        np.ceil(east * 10) / 10,
        np.ceil(north * 10) / 10,
    ) == LOWER_48_BOUNDS


def test_views_are_clipped_to_the_lower_48() -> None:
    assert within_lower_48((-180.0, 10.0, -60.0, 72.0)) == LOWER_48_BOUNDS
    assert within_lower_48((-90.0, 35.0, -80.0, 40.0)) == (-90.0, 35.0, -80.0, 40.0)


@pytest.fixture
def points(connections: Connections) -> np.ndarray:
    """Points in and just around every cap, in ``pg_temp.points`` of each owner transaction."""
    rng = np.random.default_rng(RNG_SEED)
    pieces = [
        _destinations(lon, lat, radius_m * rng.uniform(0, 1.1, 800), rng.uniform(0, 2 * np.pi, 800))
        for lon, lat, radius_m in CAPS
    ]
    return np.vstack(pieces)


def _load(cur, points: np.ndarray) -> None:
    cur.execute(
        "CREATE TEMP TABLE points ON COMMIT DROP AS"
        " SELECT i AS id, ST_SetSRID(ST_MakePoint(x, y), 4326) AS geom"
        " FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS t (x, y, i);"
        " CREATE INDEX points_geom_idx ON points USING gist (geom); ANALYZE points",
        (points[:, 0].tolist(), points[:, 1].tolist()),
    )


@pytest.mark.parametrize(("lon", "lat", "radius_m"), CAPS)
def test_the_radius_search_finds_what_the_exact_distance_finds(
    connections: Connections, points: np.ndarray, lon: float, lat: float, radius_m: float
) -> None:
    condition, params = within_radius_sql("a.geom", lon, lat, radius_m)
    with connections.owner.transaction(user="t") as cur:
        _load(cur, points)
        cur.execute(f"SELECT array_agg(id ORDER BY id) FROM points a WHERE {condition}", params)
        found = cur.fetchone()[0]
        cur.execute(
            "SELECT array_agg(id ORDER BY id) FROM points a WHERE"
            " ST_DWithin(a.geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s, false)",
            (lon, lat, radius_m),
        )
        exact = cur.fetchone()[0]
    inside = haversine_m(points[:, 0], points[:, 1], lon, lat) <= radius_m
    assert found == exact == (np.flatnonzero(inside) + 1).tolist()
    assert 500 < len(found) < 800


@pytest.mark.parametrize(("lon", "lat", "radius_m"), [CAPS[0], CAPS[1]])
def test_the_radius_search_is_served_by_the_spatial_index(
    connections: Connections, points: np.ndarray, lon: float, lat: float, radius_m: float
) -> None:
    condition, params = within_radius_sql("a.geom", lon, lat, radius_m)
    with connections.owner.transaction(user="t") as cur:
        _load(cur, points)
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute(f"EXPLAIN SELECT count(*) FROM points a WHERE {condition}", params)
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "points_geom_idx" in plan and "Seq Scan" not in plan, plan


NORTHERN_STRIP = shapely.Polygon([(-120, 48.0), (-100, 48.0), (-100, 48.5), (-120, 48.5)])
"""1,500 km along the 48th parallel: its geodesic edges bulge about 0.4° north of the parallels."""


def test_geodesic_segmentize_follows_the_geodesic_of_each_edge() -> None:
    geod = pyproj.Geod(ellps="WGS84")
    with_hole = NORTHERN_STRIP.difference(shapely.box(-111, 48.1, -109, 48.4))
    densified = geodesic_segmentize(with_hole, 500.0)
    assert densified.geom_type == "Polygon" and len(densified.interiors) == 1
    ring = np.asarray(densified.exterior.coords)
    steps = geod.inv(ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1])[2]
    assert steps.max() <= 500.0 + 1e-6
    (middle,) = geod.npts(-120, 48.5, -100, 48.5, 1)
    top = ring[(ring[:, 1] > 48.4) & np.isclose(ring[:, 0], middle[0], atol=0.01)]
    assert middle[1] - 48.5 > 0.3
    assert top[:, 1].max() == pytest.approx(middle[1], abs=0.001)
    assert set(map(tuple, np.asarray(with_hole.exterior.coords))) <= set(map(tuple, ring))
    two = shapely.MultiPolygon([NORTHERN_STRIP, shapely.box(-90, 30, -89, 31)])
    assert geodesic_segmentize(two, 1_000.0).geom_type == "MultiPolygon"
