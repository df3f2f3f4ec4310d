"""Gi* with FDR on synthetic grids: a planted cluster is found, noise is not."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from support.grids import box_grid

from geo.analysis.hotspots import hot_spots

SIZE = 12


def _grid(values: np.ndarray) -> gpd.GeoDataFrame:
    cells = box_grid(SIZE, SIZE, cell_size=1.0, origin=(0.0, 0.0), crs="EPSG:3857")
    return cells.assign(value=values.ravel()).drop(columns="code")


def test_planted_hot_cluster_is_found() -> None:
    rng = np.random.default_rng(5)
    values = rng.normal(10, 1, size=(SIZE, SIZE))
    values[2:5, 7:10] += 12  # a 3×3 block of high churn
    result = hot_spots(_grid(values), "value")
    planted = {y * SIZE + x for y in range(2, 5) for x in range(7, 10)}
    hot = set(np.flatnonzero(result["spot"] == "hot"))
    assert {y * SIZE + x for y in range(3, 4) for x in range(8, 9)} <= hot  # the block's centre
    assert hot, "no hot spot found"
    assert len(hot - planted) <= 8, "hot spots far from the planted block"
    assert not (result["spot"] == "cold").any()
    assert result.loc[list(planted), "gi_z"].mean() > 2


def test_noise_has_no_significant_spots_and_seed_is_deterministic() -> None:
    rng = np.random.default_rng(9)
    grid = _grid(rng.normal(10, 1, size=(SIZE, SIZE)))
    first = hot_spots(grid, "value", seed=1)
    second = hot_spots(grid, "value", seed=1)
    assert (first["spot"] == "not significant").all()
    assert first["gi_p"].tolist() == second["gi_p"].tolist()


def test_regions_without_a_value_are_left_out() -> None:
    values = np.full((SIZE, SIZE), 1.0)
    values[0, 0] = np.nan
    result = hot_spots(_grid(values + np.arange(SIZE * SIZE).reshape(SIZE, SIZE) * 0.01), "value")
    assert len(result) == SIZE * SIZE - 1
