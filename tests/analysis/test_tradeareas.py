"""Trade areas on hand-built points with known answers."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from geo.analysis.tradeareas import (
    HUFF_BETA_GRID,
    area_accounts,
    area_figures,
    customer_derived,
    fit_huff_beta,
    fit_huff_beta_to_customers,
    huff_cells,
    huff_market,
    huff_probabilities,
    nearest_branch,
    nearest_branch_keys,
    nearest_cells,
    polygon_members,
    ring_members,
    ring_radii_m,
    rings,
    threshold_rings,
    voronoi,
)
from geo.places.geodesy import distance_matrix, haversine_m

RNG_SEED = 11


def _points(lons, lats, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=gpd.points_from_xy(lons, lats), crs="EPSG:4326")


@pytest.fixture
def branches() -> gpd.GeoDataFrame:
    return _points([-87.63, -87.90], [41.88, 41.88], branch_id=[1, 2])


@pytest.fixture
def scattered() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(RNG_SEED)
    lons = -87.63 + rng.uniform(-0.6, 0.3, 400)
    lats = 41.88 + rng.uniform(-0.3, 0.3, 400)
    statuses = rng.choice(["customer", "prospect"], 400, p=[0.6, 0.4])
    frame = _points(lons, lats, status=statuses, revenue=np.round(rng.uniform(100, 1000, 400), 2))
    frame.index = pd.RangeIndex(1000, 1400, name="account")
    return frame


def test_ring_holds_exactly_the_accounts_within_its_radius(branches, scattered) -> None:
    areas = rings(branches, [10_000, 25_000])
    members = ring_members(scattered, branches, areas)
    distances = distance_matrix(scattered, branches)
    for label, area in areas.iterrows():
        column = 0 if area["branch_id"] == 1 else 1
        expected = set(scattered.index[distances[:, column] <= area["radius_m"]])
        assert set(members.loc[members["area"] == label, "account"]) == expected
        assert len(expected) > 0
        polygon = area.geometry
        clear = np.abs(distances[:, column] - area["radius_m"]) > 0.002 * area["radius_m"]
        drawn = set(scattered.index[clear & scattered.within(polygon).to_numpy()])
        assert drawn == expected & set(scattered.index[clear]), (
            "the drawn ring and the measured ring disagree"
        )


def test_customer_derived_ring_holds_the_share(branches, scattered) -> None:
    customers = scattered[scattered["status"] == "customer"]
    areas = customer_derived(branches, customers, share=0.7)
    nearest = nearest_branch(customers, branches)
    for row in areas.itertuples():
        own = nearest[nearest["branch_id"] == row.branch_id]
        held = (own["distance_m"] <= row.radius_m).sum()
        assert held == row.customers == int(np.ceil(0.7 * len(own)))


def test_threshold_rings_reach_n_customers_or_revenue(branches, scattered) -> None:
    by_count = threshold_rings(branches, scattered, customers=25)
    distances = distance_matrix(scattered, branches)
    for i, row in enumerate(by_count.itertuples()):
        assert (distances[:, i] <= row.radius_m).sum() == 25
    by_revenue = threshold_rings(branches, scattered, revenue=5_000)
    for i, row in enumerate(by_revenue.itertuples()):
        inside = distances[:, i] <= row.radius_m
        assert scattered["revenue"][inside].sum() >= 5_000
        assert (
            scattered["revenue"][inside].sum() - scattered["revenue"][inside].max() < 5_000
            or inside.sum() == 1
        )
    out_of_reach = threshold_rings(branches, scattered, customers=10_000)
    assert out_of_reach["radius_m"].isna().all() and out_of_reach.geometry.isna().all()
    with pytest.raises(ValueError, match="exactly one threshold"):
        threshold_rings(branches, scattered)


def test_voronoi_cells_partition_the_study_area_by_nearest_branch(branches) -> None:
    area = box(-88.5, 41.5, -87.0, 42.3)
    cells = voronoi(branches, area)
    assert list(cells["branch_id"]) == [1, 2]
    assert cells.geometry.is_valid.all()
    assert cells.to_crs("EPSG:5070").area.sum() == pytest.approx(
        gpd.GeoSeries([area], crs="EPSG:4326").to_crs("EPSG:5070").area.iloc[0], rel=1e-6
    )
    assert cells.geometry.iloc[0].contains(shapely.Point(-87.4, 41.9))
    assert cells.geometry.iloc[1].contains(shapely.Point(-88.2, 41.9))


def test_nearest_cells_keep_the_order_and_index_of_the_points_and_leave_out_what_misses_the_area() -> None:
    """The one nearest-point construction (trade areas, alignment units): each point's cell, in order."""
    area = box(-88.5, 41.5, -87.0, 42.3)
    points = gpd.GeoSeries(
        shapely.points([(-87.2, 41.9), (-88.3, 41.9), (-87.8, 42.2), (-60.0, 10.0)]),
        index=["east", "west", "north", "far"],
        crs="EPSG:4326",
    )
    cells = nearest_cells(points, area)
    assert list(cells.index) == ["east", "west", "north", "far"]
    assert cells.crs == "EPSG:4326"
    for name in ("east", "west", "north"):
        assert cells[name].contains(points[name])
    assert cells["far"].is_empty
    metric = cells.to_crs("EPSG:5070")
    assert metric.area.sum() == pytest.approx(
        gpd.GeoSeries([area], crs="EPSG:4326").to_crs("EPSG:5070").area[0]
    )
    assert not metric["east"].overlaps(metric["west"])


def test_huff_probabilities_sum_to_one_and_decay_with_distance() -> None:
    distances = np.array([[1_000.0, 5_000.0], [5_000.0, 1_000.0], [3_000.0, 3_000.0]])
    p = huff_probabilities(distances, np.array([1.0, 1.0]), beta=2.0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert p[0, 0] == pytest.approx(25 / 26) and p[2, 0] == pytest.approx(0.5)
    bigger = huff_probabilities(distances, np.array([3.0, 1.0]), beta=2.0)
    assert bigger[2, 0] == pytest.approx(0.75)


def test_huff_beta_is_recovered_from_simulated_choices() -> None:
    rng = np.random.default_rng(RNG_SEED)
    distances = rng.uniform(500, 20_000, size=(4_000, 3))
    attractiveness = np.array([1.0, 2.0, 1.5])
    p = huff_probabilities(distances, attractiveness, beta=1.6)
    chosen = np.array([rng.choice(3, p=row) for row in p])
    assert fit_huff_beta(distances, chosen, attractiveness) == pytest.approx(1.6, abs=0.15)


def test_huff_market_per_cell(branches) -> None:
    cells = pd.DataFrame(
        {"cell": ["a", "b"], "lon": [-87.63, -87.765], "lat": [41.88, 41.88], "demand": [10, 4]}
    )
    market = huff_market(cells, branches, beta=2.0)
    sums = market.groupby("cell")["probability"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)
    midway = market[market["cell"] == "b"]
    np.testing.assert_allclose(midway["probability"], [0.5, 0.5], atol=1e-3)
    assert market["expected_demand"].sum() == pytest.approx(14.0)


def test_area_figures_and_cannibalisation(branches) -> None:
    accounts = _points(
        [-87.63, -87.70, -87.77, -87.90],
        [41.88] * 4,
        status=["customer", "customer", "customer", "prospect"],
        revenue=[100.0, 50.0, 25.0, 0.0],
    )
    accounts.index = pd.Index([1, 2, 3, 4], name="account")
    areas = pd.DataFrame({"branch_id": [1, 2], "radius_m": [13_000.0, 13_000.0]})
    members = ring_members(accounts, branches, areas)
    figures = area_figures(members, accounts, areas["branch_id"])
    # Branch 1 holds accounts 1, 2 and 3; branch 2 holds 3 and 4; account 3 is shared.
    assert figures.loc[0, ["accounts", "customers", "revenue"]].tolist() == [3, 3, 175.0]
    assert figures.loc[1, ["accounts", "customers", "revenue"]].tolist() == [2, 1, 25.0]
    assert figures.loc[0, "shared_customers"] == 1 and figures.loc[1, "shared_customers"] == 1
    assert figures.loc[0, "cannibalisation"] == pytest.approx(100 / 3)
    assert figures.loc[1, "revenue_share"] == pytest.approx(100 * 25 / 175)


def test_area_accounts_are_those_inside_the_areas_asked_for_by_name_once(branches) -> None:
    accounts = _points(
        [-87.63, -87.70, -87.77, -87.90],
        [41.88] * 4,
        name=["Delta", "Alpha", "Alpha", "Beta"],
        external_id=["D", "A2", "A1", "B"],
    )
    accounts.index = pd.Index([1, 2, 3, 4], name="account")
    areas = pd.DataFrame({"branch_id": [1, 1, 2], "radius_m": [8_000.0, 13_000.0, 13_000.0]})
    members = ring_members(accounts, branches, areas)
    assert list(area_accounts(accounts, members, pd.Index([0]))["external_id"]) == ["A2", "D"]
    assert list(area_accounts(accounts, members, pd.Index([0, 1]))["external_id"]) == ["A1", "A2", "D"]
    assert list(area_accounts(accounts, members, pd.Index([2])).index) == [3, 4]
    assert area_accounts(accounts, members, pd.Index([])).empty


def test_nested_areas_of_one_branch_do_not_count_as_shared(branches) -> None:
    accounts = _points([-87.63, -87.70], [41.88] * 2, status=["customer", "customer"], revenue=[10.0, 20.0])
    accounts.index = pd.Index([1, 2], name="account")
    areas = pd.DataFrame({"branch_id": [1, 1], "radius_m": [8_000.0, 13_000.0]})
    figures = area_figures(ring_members(accounts, branches, areas), accounts, areas["branch_id"])
    assert figures["customers"].tolist() == [2, 2]
    assert figures["shared_customers"].tolist() == [0, 0]
    assert figures["cannibalisation"].tolist() == [0.0, 0.0]


def test_nearest_branch_equals_a_brute_force_haversine_ranking(branches, scattered) -> None:
    brute = distance_matrix(scattered, branches)
    found = nearest_branch(scattered, branches)
    assert (found["branch_id"].to_numpy() == branches["branch_id"].to_numpy()[brute.argmin(axis=1)]).all()
    assert found["distance_m"].to_numpy() == pytest.approx(brute.min(axis=1), abs=1e-3)


def test_nearest_branch_keys_leave_unknown_locations_empty(branches) -> None:
    lon = np.array([-87.64, np.nan, -87.89])
    lat = np.array([41.88, 41.0, 41.9])
    keys = nearest_branch_keys(lon, lat, branches)
    assert keys.iloc[0] == 1 and pd.isna(keys.iloc[1]) and keys.iloc[2] == 2
    assert nearest_branch_keys(lon, lat, branches.iloc[:0]).isna().all()


def test_huff_beta_is_recovered_from_one_branchs_customers() -> None:
    rng = np.random.default_rng(RNG_SEED)
    distances = rng.uniform(500, 40_000, size=(6_000, 3))
    attractiveness = np.array([1.0, 1.5, 0.8])
    share = huff_probabilities(distances, attractiveness, beta=1.8)[:, 0]
    is_customer = rng.uniform(size=len(share)) < 0.6 * share
    fitted = fit_huff_beta_to_customers(distances, is_customer, 0, attractiveness)
    assert fitted == pytest.approx(1.8, abs=0.2)
    assert fit_huff_beta_to_customers(distances, np.zeros(6_000, bool), 0, attractiveness) == 0.25


def test_huff_cells_hold_every_account_and_favour_the_near_branch(branches, scattered) -> None:
    cells, beta = huff_cells(scattered, branches, 1, resolution=7)
    assert cells["accounts"].sum() == len(scattered)
    assert cells["revenue"].sum() == pytest.approx(scattered["revenue"].sum())
    assert ((cells["probability"] > 0) & (cells["probability"] < 1)).all()
    assert beta in HUFF_BETA_GRID
    lat, lon = np.array([h3.cell_to_latlng(cell) for cell in cells["cell"]]).T
    near_one = haversine_m(lon, lat, -87.63, 41.88) < haversine_m(lon, lat, -87.90, 41.88)
    assert (cells.loc[near_one, "probability"] > 0.5).all()
    assert (cells.loc[~near_one, "probability"] < 0.5).all()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5, 10, 25", [5_000.0, 10_000.0, 25_000.0]),
        ("25;5 ; 5", [5_000.0, 25_000.0]),
        ("2.5", [2_500.0]),
        ("7, far, -3, 1e3, 1.2.3", [7_000.0]),
        ("", [10_000.0]),
        ("far", [10_000.0]),
    ],
)
def test_ring_radii_are_read_in_km_and_default_to_10_km(text: str, expected: list[float]) -> None:
    assert ring_radii_m(text) == expected


def test_polygon_members_are_the_accounts_inside_each_area() -> None:
    accounts = _points([0.5, 1.5, 5.0, 0.2], [0.5, 0.5, 5.0, 0.8])
    accounts.index = pd.Index([11, 12, 13, 14], name="account")
    areas = gpd.GeoDataFrame(
        {"branch_id": [1, 2]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4326"
    )
    areas.index = pd.Index([7, 8])
    members = polygon_members(accounts, areas).sort_values("account", ignore_index=True)
    assert members.to_dict("list") == {"area": [7, 8, 7], "account": [11, 12, 14]}
