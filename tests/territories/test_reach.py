"""The certificate that no balanced territory can hold a unit, on synthetic paths."""

from __future__ import annotations

import numpy as np
from support.grids import box_grid

from territories.graph import unit_graph
from territories.reach import unit_out_of_reach


def _out_of_reach(weights: np.ndarray, graph, **band) -> np.ndarray:
    """The certificate for every unit."""
    return np.array([unit_out_of_reach(u, weights, graph, **band) for u in range(len(weights))])


def test_out_of_reach_certifies_units_no_balanced_territory_can_hold() -> None:
    graph = unit_graph(box_grid(5))
    weights = np.array([14.0, 9.0, 10.0, 30.0, 5.0])
    fixed = np.array([False, False, False, True, False])  # unit 3 is an oversized territory
    found = _out_of_reach(weights, graph, low=18.05, high=19.95, fixed=fixed)
    # 14 alone is light and 14 + 9 heavy; 5 touches only the oversized unit.
    assert found.tolist() == [True, False, False, False, True]


def test_out_of_reach_looks_past_light_neighbours_and_admits_doubt() -> None:
    graph = unit_graph(box_grid(4))
    none_fixed = np.zeros(4, dtype=bool)
    # 5 + 1 stays light, + 20 overshoots: neither end of the light pair can be balanced.
    found = _out_of_reach(np.array([5.0, 1.0, 20.0, 11.0]), graph, low=10, high=12, fixed=none_fixed)
    assert found.tolist() == [True, True, False, False]
    # Three units reach the band together: nothing is certified.
    found = _out_of_reach(np.array([5.0, 1.0, 5.0, 30.0]), graph, low=10, high=12, fixed=none_fixed)
    assert found.tolist() == [False, False, False, False]
    # With no budget to enumerate, nothing is claimed.
    found = _out_of_reach(
        np.array([5.0, 1.0, 20.0, 11.0]), graph, low=10, high=12, fixed=none_fixed, budget=0
    )
    assert not found.any()


def test_a_unit_not_lighter_than_the_band_is_never_claimed() -> None:
    graph = unit_graph(box_grid(3))
    weights = np.array([11.0, 30.0, 1.0])
    none_fixed = np.zeros(3, dtype=bool)
    assert not unit_out_of_reach(0, weights, graph, low=10, high=12, fixed=none_fixed)
    assert not unit_out_of_reach(1, weights, graph, low=10, high=12, fixed=none_fixed)
    assert unit_out_of_reach(2, weights, graph, low=10, high=12, fixed=none_fixed)
