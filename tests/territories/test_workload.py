"""Territory workload: a unit's typical trip between accounts by road where a network covers it."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.places.geodesy import local_metric_crs
from geo.roads.estimate import estimated_seconds
from geo.roads.importer import store_graph
from geo.roads.network import road_edges, routing_graph
from geo.roads.speeds import DEFAULT_SPEEDS_KMH
from territories.book_alignment import add_workload, unit_trip_minutes
from tests.support.roads import GRID_EDGE_S, grid_position, grid_ways

USER = "t"


def _square_km2(lon: float, lat: float) -> shapely.Polygon:
    """A 1 km × 1 km square centred on (lon, lat)."""
    square = gpd.GeoSeries([shapely.box(-500, -500, 500, 500)], crs=local_metric_crs(lon, lat))
    return square.to_crs("EPSG:4326").iloc[0]


def test_a_unit_on_the_network_is_timed_by_road_and_one_off_it_estimated(connections) -> None:
    graph = routing_graph(road_edges(grid_ways(7), DEFAULT_SPEEDS_KMH))
    store_graph(connections.app, graph, source_name="grid", speeds_kmh=DEFAULT_SPEEDS_KMH, user=USER)
    on_grid = grid_position(3, 3)
    units = gpd.GeoDataFrame(
        {"accounts": [1, 1], "visits": [10, 10], "visit_minutes": [300.0, 300.0]},
        geometry=[_square_km2(*on_grid), _square_km2(-100.0, 45.0)],
        crs="EPSG:4326",
    )
    minutes, by_road = unit_trip_minutes(connections.app, units, user=USER)
    assert by_road.tolist() == [True, False]
    # 1 km to the neighbouring grid node in each direction: one edge, plus the few metres from
    # the trip's end (on the ellipsoid) to the node (the grid is laid out on the sphere).
    assert minutes[0] == pytest.approx(GRID_EDGE_S / 60, rel=0.02)
    assert minutes[1] == pytest.approx(float(estimated_seconds(1000.0)) / 60, rel=0.01)
    workload = add_workload(units, minutes)["workload"].to_numpy()
    np.testing.assert_allclose(workload, 300.0 + 10 * 2 * minutes)


def test_without_a_network_every_unit_is_estimated(connections) -> None:
    units = gpd.GeoDataFrame(
        {"accounts": [4], "visits": [1], "visit_minutes": [30.0]},
        geometry=[_square_km2(*grid_position(3, 3))],
        crs="EPSG:4326",
    )
    minutes, by_road = unit_trip_minutes(connections.app, units, user=USER)
    assert by_road.tolist() == [False]
    assert minutes[0] == pytest.approx(float(estimated_seconds(500.0)) / 60, rel=0.01)
