"""The day's route: never longer than nearest neighbour, within 5% of the optimum when that is known."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from geo.field.routes import distance_table, nearest_neighbour_tour, plan_route, route_gpx, route_length


def _stops(seed: int, count: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "name": [f"Account {i}" for i in range(count)],
            "lon": -87.9 + rng.uniform(0, 0.5, count),
            "lat": 41.7 + rng.uniform(0, 0.4, count),
        }
    )


def _optimum(start: tuple[float, float], stops: pd.DataFrame, *, round_trip: bool) -> float:
    lon = np.concatenate([[start[0]], stops["lon"]])
    lat = np.concatenate([[start[1]], stops["lat"]])
    distances = distance_table(lon, lat)
    return min(
        route_length([0, *perm], distances, round_trip=round_trip)
        for perm in itertools.permutations(range(1, len(stops) + 1))
    )


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("round_trip", [False, True])
def test_route_is_within_five_percent_of_the_brute_force_optimum(seed: int, round_trip: bool) -> None:
    start = (-87.63, 41.88)
    stops = _stops(seed, 7)
    ordered, total = plan_route(start, stops, round_trip=round_trip)
    assert sorted(ordered["name"]) == sorted(stops["name"])
    assert total <= _optimum(start, stops, round_trip=round_trip) * 1.05


@pytest.mark.parametrize("seed", range(5))
def test_route_is_never_longer_than_the_nearest_neighbour_tour(seed: int) -> None:
    start = (-87.63, 41.88)
    stops = _stops(100 + seed, 40)
    lon = np.concatenate([[start[0]], stops["lon"]])
    lat = np.concatenate([[start[1]], stops["lat"]])
    distances = distance_table(lon, lat)
    greedy = route_length(nearest_neighbour_tour(distances), distances)
    ordered, total = plan_route(start, stops)
    assert total <= greedy + 1e-6
    assert ordered["cumulative_m"].iloc[-1] == pytest.approx(total)
    assert ordered["sequence"].tolist() == list(range(1, 41))


def test_gpx_lists_the_start_and_every_stop_in_order() -> None:
    ordered, _total = plan_route((-87.63, 41.88), _stops(3, 5))
    document = ET.fromstring(route_gpx((-87.63, 41.88), ordered, name="Tuesday <north>"))
    namespace = {"g": "http://www.topografix.com/GPX/1/1"}
    names = [e.text for e in document.findall("g:rte/g:rtept/g:name", namespace)]
    assert names == ["Start", *ordered["name"]]
    assert document.find("g:rte/g:name", namespace).text == "Tuesday <north>"
