"""Travel times per edge, one-way streets and the kept component, from way tags (no database)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.errors import RoadNetworkError
from geo.roads.network import CLOSED, road_edges, routing_graph
from geo.roads.speeds import DEFAULT_SPEEDS_KMH, load_speeds, parse_maxspeed
from tests.support.roads import grid_ways


@pytest.mark.parametrize(
    ("tag", "kmh"),
    [
        ("50", 50.0),
        ("30 mph", 30 * 1.609344),
        ("25mph", 25 * 1.609344),
        ("70 km/h", 70.0),
        ("50;70", 50.0),
        ("12,5", 12.5),
        ("none", None),
        ("signals", None),
        ("RU:urban", None),
        ("0", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_maxspeed_reads_numbers_and_units(tag: object, kmh: float | None) -> None:
    assert parse_maxspeed(tag) == (pytest.approx(kmh) if kmh is not None else None)


def test_speed_file_overrides_named_classes_only(tmp_path) -> None:
    path = tmp_path / "speeds.toml"
    path.write_text("[speeds_kmh]\nResidential = 25\n", encoding="utf-8")
    speeds = load_speeds(path)
    assert speeds["residential"] == 25.0
    assert speeds["motorway"] == DEFAULT_SPEEDS_KMH["motorway"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[speeds_kmh]\nhovercraft = 40\n", "Unknown road class 'hovercraft'.*motorway, motorway_link"),
        ("[speeds_kmh]\nresidential = -5\n", "positive km/h"),
        ("[speeds_kmh]\nresidential = 'fast'\n", "positive km/h"),
        ("[other]\nx = 1\n", "no \\[speeds_kmh\\] table"),
        ("not toml [", "Cannot read the speed file"),
    ],
)
def test_bad_speed_file_is_refused_with_a_reason(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "speeds.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RoadNetworkError, match=message):
        load_speeds(path)


def _way(u: int, v: int, **tags) -> dict:
    return {
        "u": u,
        "v": v,
        "highway": tags.get("highway", "residential"),
        "maxspeed": tags.get("maxspeed", pd.NA),
        "oneway": tags.get("oneway", pd.NA),
        "junction": tags.get("junction", pd.NA),
        "length_m": 360.0,
        "osm_way_id": 7,
        "geometry": shapely.LineString([(u, 0), (v, 0)]),
    }


@pytest.mark.parametrize(
    ("tags", "forward", "backward"),
    [
        ({}, True, True),
        ({"oneway": "yes"}, True, False),
        ({"oneway": "-1"}, False, True),
        ({"junction": "roundabout"}, True, False),
        ({"highway": "motorway"}, True, False),
        ({"highway": "motorway", "oneway": "no"}, True, True),
    ],
)
def test_one_way_streets_open_only_their_direction(tags: dict, forward: bool, backward: bool) -> None:
    edge = road_edges(gpd.GeoDataFrame([_way(1, 2, **tags)], crs="EPSG:4326"), DEFAULT_SPEEDS_KMH).iloc[0]
    directions = {(int(edge.source_node), int(edge.target_node))}
    if edge.reverse_cost != CLOSED:
        directions.add((int(edge.target_node), int(edge.source_node)))
    assert ((1, 2) in directions) is forward
    assert ((2, 1) in directions) is backward
    assert edge.geometry.coords[0][0] == edge.source_node


def test_edge_time_follows_maxspeed_then_the_class_speed() -> None:
    ways = gpd.GeoDataFrame(
        [_way(1, 2, maxspeed="36"), _way(2, 3), _way(3, 4, highway="bridleway_unknown")], crs="EPSG:4326"
    )
    seconds = road_edges(ways, DEFAULT_SPEEDS_KMH)["cost"].tolist()
    assert seconds == pytest.approx([36.0, 360 / (30 / 3.6), 360 / (DEFAULT_SPEEDS_KMH["road"] / 3.6)])


def test_largest_strongly_connected_component_is_kept_and_the_rest_reported() -> None:
    grid = grid_ways(3)
    island = gpd.GeoDataFrame([_way(100, 101), _way(101, 102)], crs="EPSG:4326")
    dead_end = gpd.GeoDataFrame([_way(1, 200, oneway="yes")], crs="EPSG:4326")
    graph = routing_graph(
        road_edges(pd.concat([grid, island, dead_end], ignore_index=True), DEFAULT_SPEEDS_KMH)
    )
    assert len(graph.edges) == len(grid)
    assert len(graph.vertices) == 9
    assert graph.dropped_edges == 3
    assert graph.dropped_components == 2
    assert sorted(graph.vertices["id"]) == list(range(1, 10))
    assert set(graph.edges["source"]) | set(graph.edges["target"]) == set(range(1, 10))
