"""Regrowing a neighbourhood into balanced territories, on synthetic paths and grids."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from support.grids import box_grid

from territories.graph import neighbours, unit_centroids, unit_graph
from territories.metrics import contiguous
from territories.regrow import _splittable, regrow_partition


def _regrow(units: gpd.GeoDataFrame, weights: list[float], parts: int, *, seed: int = 0) -> np.ndarray | None:
    graph = unit_graph(units)
    total = sum(weights)
    return regrow_partition(
        np.arange(len(units)),
        parts,
        neighbours(graph),
        np.asarray(weights, dtype=float),
        unit_centroids(units),
        low=0.95 * total / parts,
        high=1.05 * total / parts,
        rng=np.random.default_rng(seed),
    )


def test_a_path_regrows_into_its_only_balanced_cut() -> None:
    labels = _regrow(box_grid(6, 1), [5, 4, 3, 2, 6, 4], 2)
    assert labels is not None
    assert {frozenset(np.flatnonzero(labels == p).tolist()) for p in (0, 1)} == {
        frozenset({0, 1, 2}),
        frozenset({3, 4, 5}),
    }


def test_a_path_with_no_balanced_cut_gives_none() -> None:
    assert _regrow(box_grid(6, 1), [5, 4, 4, 2, 6, 3], 2) is None


def test_a_grid_regrows_into_connected_parts_within_the_band_the_same_for_a_seed() -> None:
    units = box_grid(8, 8)
    weights = np.round(np.random.default_rng(5).lognormal(0, 1.2, 64) * 10).tolist()
    labels = _regrow(units, weights, 5, seed=2)
    assert labels is not None
    sums = np.bincount(labels, weights=weights, minlength=5)
    assert np.abs(sums / (sum(weights) / 5) - 1).max() <= 0.05
    graph = unit_graph(units)
    assert all(contiguous(labels, graph, part) for part in range(5))
    assert (_regrow(units, weights, 5, seed=2) == labels).all()


@pytest.mark.parametrize(
    ("pieces", "territories", "expected"),
    [
        ([], 0, True),
        ([10.0], 1, True),
        ([20.0], 2, True),
        ([15.0], 1, False),
        ([15.0], 2, False),
        ([10.0, 0.0], 1, False),
        ([10.0, 20.0], 3, True),
        ([10.0, 20.0], 2, False),
        ([200.0], 20, True),
        ([200.0], 21, True),
        ([200.0], 22, False),
    ],
)
def test_splittable_counts_the_territories_each_piece_can_hold(
    pieces: list[float], territories: int, expected: bool
) -> None:
    assert _splittable(pieces, territories, 9.5, 10.5) is expected
