"""On a synthetic grid whose shortest times are known, pgRouting's answers equal them exactly."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
import shapely

from geo.errors import AccessDenied
from geo.field.nearby import nearest_accounts, nearest_by_drive
from geo.field.routes import drive_route, route_gpx
from geo.places.geodesy import haversine_m
from geo.roads.estimate import NO_NETWORK, OUTSIDE_NETWORK, estimated_seconds
from geo.roads.importer import store_graph
from geo.roads.network import road_edges, routing_graph
from geo.roads.speeds import DEFAULT_SPEEDS_KMH
from geo.roads.storage import read_status
from geo.roads.travel import drive_time_areas, travel_from, travel_matrix, trips
from geo.store.users import add_user
from tests.support.roads import GRID_EDGE_S, grid_position, grid_ways

USER = "t"
SIZE = 7


def _load(connections, **kwargs) -> None:
    graph = routing_graph(road_edges(grid_ways(SIZE, **kwargs), DEFAULT_SPEEDS_KMH))
    store_graph(connections.app, graph, source_name="grid", speeds_kmh=DEFAULT_SPEEDS_KMH, user=USER)


def _nodes() -> list[tuple[int, int]]:
    return list(itertools.product(range(SIZE), range(SIZE)))


def test_travel_times_equal_the_grid_distances(connections) -> None:
    _load(connections)
    picks = [(0, 0), (6, 6), (3, 1), (2, 5), (6, 0)]
    lon, lat = np.array([grid_position(*p) for p in picks]).T
    seconds, basis = travel_matrix(connections.app, lon, lat, user=USER)
    known = np.array([[GRID_EDGE_S * (abs(a[0] - b[0]) + abs(a[1] - b[1])) for b in picks] for a in picks])
    assert basis.by_road and basis.label == "by road (grid)"
    np.testing.assert_allclose(seconds, known, atol=1e-6)
    from_first, _basis = travel_from(connections.app, (lon[0], lat[0]), lon[1:], lat[1:], user=USER)
    np.testing.assert_allclose(from_first, known[0, 1:], atol=1e-6)


@pytest.mark.parametrize("minutes", [2, 3, 5])
def test_drive_time_area_holds_exactly_the_nodes_within_the_limit(connections, minutes: int) -> None:
    _load(connections)
    centre = (3, 3)
    lon, lat = grid_position(*centre)
    areas, basis = drive_time_areas(
        connections.app, pd.DataFrame({"key": [1], "lon": [lon], "lat": [lat]}), [minutes], user=USER
    )
    area = areas.geometry.iloc[0]
    assert basis.by_road and area.is_valid
    inside = {p for p in _nodes() if area.contains(shapely.Point(grid_position(*p)))}
    within = {p for p in _nodes() if abs(p[0] - centre[0]) + abs(p[1] - centre[1]) <= minutes}
    assert inside == within


def test_several_limits_at_once_nest(connections) -> None:
    _load(connections)
    lon, lat = grid_position(3, 3)
    areas, _basis = drive_time_areas(
        connections.app, pd.DataFrame({"key": [9], "lon": [lon], "lat": [lat]}), [1, 3, 2], user=USER
    )
    assert areas["minutes"].tolist() == [3, 2, 1]
    assert areas.geometry.iloc[0].buffer(1e-9).contains(areas.geometry.iloc[1])
    assert areas.geometry.iloc[1].buffer(1e-9).contains(areas.geometry.iloc[2])


def test_a_one_way_street_makes_the_way_against_it_longer(connections) -> None:
    _load(connections, one_way={(0, 0, 1, 0): "yes"})
    a, b = grid_position(0, 0), grid_position(1, 0)
    seconds, _basis = travel_matrix(
        connections.app, np.array([a[0], b[0]]), np.array([a[1], b[1]]), user=USER
    )
    assert seconds[0, 1] == pytest.approx(GRID_EDGE_S)
    assert seconds[1, 0] == pytest.approx(3 * GRID_EDGE_S)


def test_route_is_drawn_along_the_roads_and_never_longer_than_nearest_neighbour(connections) -> None:
    _load(connections)
    stops = pd.DataFrame(
        [
            {"name": f"s{c}{r}", "lon": grid_position(c, r)[0], "lat": grid_position(c, r)[1]}
            for c, r in [(6, 6), (0, 6), (6, 0), (3, 3), (1, 2)]
        ]
    )
    route = drive_route(connections.app, grid_position(0, 0), stops, user=USER)
    assert route.basis.label == "by road (grid)"
    assert route.total_s <= route.nearest_neighbour_s + 1e-6
    assert route.stops["cumulative_min"].iloc[-1] * 60 == pytest.approx(route.total_s)
    assert route.total_m == pytest.approx(route.total_s / GRID_EDGE_S * 1000)
    for line in route.path.geoms:
        for x, y in line.coords:
            assert any(np.allclose((x, y), grid_position(*p)) for p in _nodes())
    track = ET.fromstring(route_gpx(grid_position(0, 0), route.stops, path=route.path))
    namespace = {"g": "http://www.topografix.com/GPX/1/1"}
    assert len(track.findall("g:trk/g:trkseg", namespace)) == len(stops)
    assert len(track.findall("g:trk/g:trkseg/g:trkpt", namespace)) == sum(
        len(g.coords) for g in route.path.geoms
    )
    legs, _basis = trips(connections.app, *np.array([grid_position(0, 0), grid_position(2, 1)]).T, user=USER)
    assert legs[0].seconds == pytest.approx(3 * GRID_EDGE_S)
    assert len(legs[0].geometry.coords) == 4 + 2


def test_without_a_network_times_are_labelled_estimates(connections) -> None:
    a, b = grid_position(0, 0), grid_position(4, 4)
    lon, lat = np.array([a[0], b[0]]), np.array([a[1], b[1]])
    seconds, basis = travel_matrix(connections.app, lon, lat, user=USER)
    assert not basis.by_road and basis.label == NO_NETWORK
    assert seconds[0, 1] == pytest.approx(float(estimated_seconds(haversine_m(a[0], a[1], b[0], b[1]))))
    areas, area_basis = drive_time_areas(
        connections.app, pd.DataFrame({"key": [1], "lon": [a[0]], "lat": [a[1]]}), [10], user=USER
    )
    assert area_basis.label == NO_NETWORK and areas.geometry.iloc[0].contains(shapely.Point(a))
    route = drive_route(
        connections.app, a, pd.DataFrame({"name": ["x"], "lon": [b[0]], "lat": [b[1]]}), user=USER
    )
    assert route.basis.label == NO_NETWORK


def test_a_point_far_from_every_road_is_outside_the_network(connections) -> None:
    _load(connections)
    a = grid_position(0, 0)
    seconds, basis = travel_matrix(
        connections.app, np.array([a[0], -100.0]), np.array([a[1], 45.0]), user=USER
    )
    assert basis.label == OUTSIDE_NETWORK
    assert np.isfinite(seconds).all()


def test_only_an_admin_replaces_the_network(connections) -> None:
    add_user(connections.owner, "mara", role="marketer", password="mara-password-1", actor=USER)
    graph = routing_graph(road_edges(grid_ways(3), DEFAULT_SPEEDS_KMH))
    with pytest.raises(AccessDenied):
        from geo.roads.importer import import_network

        import_network(connections.app, "missing.osm.pbf", user="mara")
    with pytest.raises(Exception, match="permission denied"):
        store_graph(connections.app, graph, source_name="grid", speeds_kmh=DEFAULT_SPEEDS_KMH, user="mara")
    with connections.app.transaction(user=USER) as cur:
        assert read_status(cur) is None


def test_nearest_by_drive_time_reranks_the_nearest_on_the_sphere(connections) -> None:
    _load(connections, one_way={(0, 0, 1, 0): "-1"})
    with connections.owner.transaction(user=USER) as cur:
        for external_id, node in (("EAST", (1, 0)), ("NORTH", (0, 2)), ("FAR", (6, 6))):
            cur.execute(
                "INSERT INTO accounts (external_id, name, status, geom, geocode_precision)"
                " VALUES (%s, %s, 'customer', ST_SetSRID(ST_MakePoint(%s, %s), 4326), 'rooftop')",
                (external_id, external_id.title(), *grid_position(*node)),
            )
    lon, lat = grid_position(0, 0)
    by_distance = nearest_accounts(connections.app, lon, lat, k=3, user=USER)
    by_drive, basis = nearest_by_drive(connections.app, lon, lat, k=2, user=USER)
    assert by_distance["external_id"].tolist()[:2] == ["EAST", "NORTH"]
    assert by_drive["external_id"].tolist() == ["NORTH", "EAST"]
    assert by_drive["drive_min"].tolist() == pytest.approx([2.0, 3.0])
    assert basis.label == "by road (grid)"
