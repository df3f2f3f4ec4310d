"""The day's route: never longer than nearest neighbour, within 5% of the optimum when that is known."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from geo.field.routes import (
    distance_table,
    nearest_neighbour_tour,
    plan_route,
    route_gpx,
    route_length,
    two_opt,
)


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


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("round_trip", [False, True])
def test_two_opt_ends_and_is_never_longer_on_one_way_costs(seed: int, round_trip: bool) -> None:
    """Regression: on costs that differ by direction (road times, one-way streets) 2-opt judged a
    reversal as if they did not, could cycle for ever and returned tours longer than nearest neighbour."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 10, (26, 2))
    symmetric = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    costs = symmetric * rng.uniform(1.0, 3.0, symmetric.shape)
    np.fill_diagonal(costs, 0)
    first = nearest_neighbour_tour(costs)
    improved = two_opt(first, costs, round_trip=round_trip)
    assert sorted(improved) == list(range(26)) and improved[0] == 0
    assert (
        route_length(improved, costs, round_trip=round_trip)
        <= route_length(first, costs, round_trip=round_trip) + 1e-9
    )
    for i in range(1, 25):
        for j in range(i + 1, 26):
            reversed_once = [*improved[:i], *improved[i : j + 1][::-1], *improved[j + 1 :]]
            assert route_length(reversed_once, costs, round_trip=round_trip) >= (
                route_length(improved, costs, round_trip=round_trip) - 1e-6
            )
