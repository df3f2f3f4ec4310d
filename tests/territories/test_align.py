"""Automatic alignment on synthetic grids with known answers; contiguity proved in every test."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pytest
import shapely
from support.grids import box_grid

from geo.errors import AlignmentError
from territories.align import STEP_NAMES, _State, align_territories
from territories.graph import unit_centroids, unit_graph
from territories.metrics import alignment_report, balance_index, contiguous, polsby_popper

"""Grid step: a binary fraction, so neighbouring boxes share their edges exactly."""


def _align(units: gpd.GeoDataFrame, weights, **options):
    graph = unit_graph(units)
    result = align_territories(np.asarray(weights, dtype=float), graph, unit_centroids(units), **options)
    for territory in range(options["k"]):
        assert contiguous(result.labels, graph, territory), f"territory {territory} is not contiguous"
    return result, graph


def _partition(labels: np.ndarray) -> set[frozenset[int]]:
    return {frozenset(np.flatnonzero(labels == t).tolist()) for t in np.unique(labels)}


def test_rook_grid_graph_links_edge_neighbours_only() -> None:
    graph = unit_graph(box_grid(3, 3))
    assert graph.sum(axis=1).A1.tolist() == [2, 3, 2, 3, 4, 3, 2, 3, 2]


def test_path_of_equal_units_splits_into_the_only_balanced_pieces() -> None:
    result, _ = _align(box_grid(6, 1), [1] * 6, k=3)
    assert _partition(result.labels) == {frozenset({0, 1}), frozenset({2, 3}), frozenset({4, 5})}


def test_path_with_unequal_units_finds_the_unique_balanced_cut() -> None:
    result, _ = _align(box_grid(6, 1), [3, 1, 1, 1, 2, 4], k=2)
    assert _partition(result.labels) == {frozenset({0, 1, 2, 3}), frozenset({4, 5})}


@pytest.mark.parametrize(("size", "k"), [(4, 2), (6, 4), (8, 4), (9, 3)])
def test_equal_grid_splits_exactly_evenly(size: int, k: int) -> None:
    result, _ = _align(box_grid(size, size), [1] * size * size, k=k)
    assert np.bincount(result.labels, minlength=k).tolist() == [size * size // k] * k


def test_random_weights_balance_within_two_percent_and_compact() -> None:
    units = box_grid(40, 40)
    weights = np.random.default_rng(3).integers(1, 50, len(units))
    result, graph = _align(units, weights, k=8, tolerance=0.05, seed=1)
    sums = np.bincount(result.labels, weights=weights)
    assert np.abs(sums / sums.mean() - 1).max() <= 0.02
    report = alignment_report(units.assign(accounts=weights), result.labels, graph, measures=["accounts"])
    assert report["contiguous"].all()
    assert report["compactness"].min() > 0.3
    assert balance_index(report["accounts"]) > 0.98


def test_same_seed_same_alignment_and_another_seed_may_differ() -> None:
    units = box_grid(20, 20)
    weights = np.random.default_rng(9).integers(1, 30, len(units))
    first, _ = _align(units, weights, k=5, seed=4)
    again, _ = _align(units, weights, k=5, seed=4)
    assert (first.labels == again.labels).all()


def test_locked_units_stay_and_locked_territory_keeps_exactly_its_units() -> None:
    units = box_grid(10, 10)
    locks = {0: 2, 99: 0, 45: 1, 46: 1}
    result, _ = _align(units, [1] * 100, k=3, locks=locks, locked_territories=frozenset({1}))
    assert all(result.labels[u] == t for u, t in locks.items())
    assert np.flatnonzero(result.labels == 1).tolist() == [45, 46]
    sizes = np.bincount(result.labels, minlength=3)
    assert sizes[0] == sizes[2] == 49


def test_oversized_unit_becomes_its_own_territory() -> None:
    weights = np.ones(64)
    weights[27] = 100.0
    result, _ = _align(box_grid(8, 8), weights, k=4, tolerance=0.05)
    own = result.labels[27]
    assert result.oversized[own] and (result.labels == own).sum() == 1
    others = np.bincount(result.labels[result.labels != own])
    others = others[others > 0]
    assert len(others) == 3 and others.max() - others.min() <= 1


def test_islands_hang_on_their_nearest_neighbour() -> None:
    left = box_grid(4, 4)
    right = box_grid(4, 4, origin=(-99.0, 35.0))
    units = gpd.GeoDataFrame(
        {"code": [f"u{i}" for i in range(32)]},
        geometry=list(left.geometry) + list(right.geometry),
        crs="EPSG:4326",
    )
    graph = unit_graph(units)
    assert contiguous(np.zeros(32, dtype=int), graph, 0)
    result, _ = _align(units, [1] * 32, k=2)
    assert np.bincount(result.labels).tolist() == [16, 16]


def test_home_bases_seed_the_territories() -> None:
    result, _ = _align(box_grid(10, 1), [1] * 10, k=2, home_bases=[9, 0])
    assert result.labels[9] == 0 and result.labels[0] == 1
    assert _partition(result.labels) == {frozenset(range(5)), frozenset(range(5, 10))}


def test_h3_cells_join_their_ring_neighbours() -> None:
    centre = h3.latlng_to_cell(40.0, -100.0, 6)
    cells = sorted(h3.grid_disk(centre, 3))
    units = gpd.GeoDataFrame(
        {"code": cells},
        geometry=[shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in cells],
        crs="EPSG:4326",
    )
    graph = unit_graph(units)
    position = {c: i for i, c in enumerate(cells)}
    assert graph[position[centre]].sum() == 6
    result, _ = _align(units, [1] * len(cells), k=3)
    sizes = np.bincount(result.labels)
    assert sizes.max() - sizes.min() <= 1


def test_polsby_popper_of_a_square_and_a_strip() -> None:
    shapes = gpd.GeoSeries([box_grid(4, 4).union_all(), box_grid(16, 1).union_all()], crs="EPSG:4326")
    square, strip = polsby_popper(shapes)
    assert square == pytest.approx(np.pi / 4, rel=0.05)
    assert strip == pytest.approx(4 * np.pi * 16 / 34**2, rel=0.25)
    assert strip < square / 3


@pytest.mark.parametrize(
    ("weights", "k", "message"),
    [([1, 1], 3, "Cannot make 3 territories"), ([1, -1], 1, "non-negative")],
)
def test_impossible_requests_are_refused(weights, k: int, message: str) -> None:
    with pytest.raises(AlignmentError, match=message):
        _align(box_grid(len(weights), 1), weights, k=k)


def test_balancing_never_moves_a_unit_that_weighs_nothing() -> None:
    units = box_grid(5, 1)
    state = _State(
        np.array([1.0, 0.0, 3.0, 0.0, 1.0]), unit_graph(units), unit_centroids(units), 2, {}, frozenset()
    )
    state.labels[:] = [0, 0, 0, 0, 1]
    state.balance()
    assert state.labels.tolist() == [0, 0, 0, 0, 1]


def _heavy_tailed(seed: int, count: int) -> np.ndarray:
    """Whole-number measures spread like accounts per county (a few units outweigh many)."""
    return np.round(np.random.default_rng(seed).lognormal(0, 1.2, count) * 10)


def _after_swaps(units: gpd.GeoDataFrame, weights: np.ndarray, k: int) -> _State:
    """An alignment taken through steps 1–6 from the first angle of seed 0."""
    state = _State(weights, unit_graph(units), unit_centroids(units), k, {}, frozenset())
    state.split_oversized(0.05)
    state.partition([], float(np.random.default_rng(0).uniform(0, np.pi)))
    state.balance()
    state.compact(0.05)
    state.balance()
    state.swap(0.05)
    return state


def _assert_contiguous(state: _State) -> None:
    for territory in range(state.k):
        assert contiguous(state.labels, state.graph, territory), f"territory {territory} is not contiguous"


def test_kicks_carry_an_imbalance_across_territories_where_moves_between_two_cannot() -> None:
    state = _after_swaps(box_grid(6, 6), _heavy_tailed(8, 36), 4)
    assert state.shortfall(0.05)[0] == 4
    state.kick(0.05)
    assert state.shortfall(0.05)[0] == 0
    assert np.abs(state.sums() / state.target - 1).max() <= 0.05
    _assert_contiguous(state)


def test_regrowth_rebuilds_a_neighbourhood_that_kicks_cannot_mend() -> None:
    state = _after_swaps(box_grid(8, 8), _heavy_tailed(0, 64), 6)
    state.kick(0.05)
    assert state.shortfall(0.05)[0] == 1
    state.regrow(0.05, np.random.default_rng(0))
    assert state.shortfall(0.05)[0] == 0
    assert np.abs(state.sums() / state.target - 1).max() <= 0.05
    _assert_contiguous(state)


def test_restarts_balance_what_one_bisection_angle_cannot() -> None:
    units, weights = box_grid(8, 8), _heavy_tailed(16, 64)
    state = _after_swaps(units, weights, 6)
    state.kick(0.05)
    state.regrow(0.05, np.random.default_rng([0, 0]))
    assert state.shortfall(0.05)[0] == 2
    result, _ = _align(units, weights, k=6, seed=0)
    sums = np.bincount(result.labels, weights=weights)
    assert np.abs(sums / result.target - 1).max() <= 0.05
    again, _ = _align(units, weights, k=6, seed=0)
    assert (again.labels == result.labels).all()


def test_kicks_and_regrowth_keep_locked_units_in_place() -> None:
    units, weights = box_grid(6, 6), _heavy_tailed(8, 36)
    locks = {0: 0, 35: 3, 17: 1}
    result, _ = _align(units, weights, k=4, locks=locks)
    assert all(result.labels[u] == t for u, t in locks.items())


def test_a_territory_proved_unable_to_balance_is_left_to_the_first_steps() -> None:
    units = box_grid(5, 1)
    state = _State(
        np.array([14.0, 9.0, 10.0, 30.0, 5.0]), unit_graph(units), unit_centroids(units), 3, {}, frozenset()
    )
    state.split_oversized(0.05)
    state.partition([], 0.0)
    state.balance()
    assert state.hopeless(0.05)[state.labels[0]]
    before = state.labels.copy()
    state.kick(0.05)
    state.regrow(0.05, np.random.default_rng(0))
    assert (state.labels == before).all()
    _assert_contiguous(state)


def test_the_report_names_territories_that_cannot_balance() -> None:
    units = box_grid(5, 1)
    weights = np.array([14.0, 9.0, 10.0, 30.0, 5.0])
    result, graph = _align(units, weights, k=3, tolerance=0.05)
    report = alignment_report(
        units.assign(accounts=weights),
        result.labels,
        graph,
        measures=["accounts"],
        oversized=result.oversized,
        unbalanceable=result.unbalanceable,
    )
    assert report["cannot_balance"].tolist() == result.unbalanceable.tolist()
    assert report.loc[result.labels[0], "cannot_balance"]
    assert not report.loc[result.labels[3], "cannot_balance"]
    assert report.loc[result.labels[3], "oversized"]


def test_a_piece_hemmed_in_by_an_oversized_unit_joins_it_and_leaves_the_mean() -> None:
    result, _ = _align(box_grid(5, 1), [14, 9, 10, 30, 5], k=3)
    own = result.labels[3]
    assert result.oversized[own] and result.labels[4] == own
    assert result.target == pytest.approx((14 + 9 + 10) / 2)


def test_kicks_never_dump_a_unit_onto_a_territory_that_cannot_balance() -> None:
    units = box_grid(6, 1)
    weights = np.array([15.0, 7.0, 6.0, 1.0, 4.0, 19.0])  # 15 alone is light, with 7 heavy
    state = _State(weights, unit_graph(units), unit_centroids(units), 3, {}, frozenset())
    state.labels[:] = [0, 1, 1, 2, 2, 2]
    assert state.hopeless(0.05).tolist() == [True, False, False]
    kicks = state._kicks(0.05)
    assert kicks
    assert all(state.labels[unit] != 0 and taker != 0 for unit, taker in kicks)


def test_alignment_reports_its_steps_in_order_with_the_share_done() -> None:
    told: list[tuple[str, float]] = []
    _align(box_grid(6, 6), [1] * 36, k=4, progress=lambda what, done: told.append((what, done)))
    assert told, "no progress was reported"
    names = [what.split(": ", 1)[1] for what, _done in told]
    assert names[: len(STEP_NAMES)] == list(STEP_NAMES)
    assert all(what.startswith("Run 1 of at most") for what, _done in told[: len(STEP_NAMES)])
    shares = [done for _what, done in told]
    assert shares == sorted(shares) and shares[0] == 0 and 0 < shares[-1] < 1
