"""ZIP and H3 estimates apportioned from county figures: exact shares on a grid, sums back on shipped data."""

from __future__ import annotations

import geopandas as gpd
import h3ronpy
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from shapely.geometry import Point, box
from support.grids import CELL_DEG, box_grid

from geo.config import PROJECT_DIR
from geo.errors import EstimateError
from geo.places.estimates import PLACE_DENSITY_PER_KM2, area_estimates, h3_estimates, zip_estimates
from geo.places.geodesy import geodesic_circle
from geo.places.regions import h3_cells
from geo.store.shipped_data import read_cities, read_counties, read_county_facts, read_zips

DATA_DIR = PROJECT_DIR / "data"
WEST, SOUTH = -100.0, 35.0
MIDDLE = SOUTH + CELL_DEG / 2
"""The grid's two counties, A (west) and B (east), are unit boxes; every ZIP point lies on this latitude."""
A, B = "01001", "01003"


def _points(rows: list[tuple[str, float, float]], column: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {column: [row[0] for row in rows]},
        geometry=[Point(x, y) for _, x, y in rows],
        crs="EPSG:4326",
    )


@pytest.fixture
def counties() -> gpd.GeoDataFrame:
    return box_grid(2).assign(code=[A, B])


@pytest.fixture
def zips() -> gpd.GeoDataFrame:
    """Z1 and Z2 mirror each other about A's middle meridian, Z3 sits in the middle of B.

    Mirror points about a meridian stay mirrors in the conic equal-area CRS, so the Voronoi
    cells split along meridians: Z1 | Z2 at A's middle, Z2 | Z3 an eighth of the way into B.
    Areas of a band of latitude are proportional to its longitudes (equal area).
    """
    return _points(
        [
            ("00001", WEST + CELL_DEG / 4, MIDDLE),
            ("00002", WEST + 3 * CELL_DEG / 4, MIDDLE),
            ("00003", WEST + 3 * CELL_DEG / 2, MIDDLE),
        ],
        "zip",
    )


@pytest.fixture
def places() -> gpd.GeoDataFrame:
    """Two places in A: 300 people in Z1's cell, 100 in Z2's; none in B."""
    frame = _points([("West", -99.99, 35.02), ("East", -99.92, 35.1)], "name")
    return frame.assign(population=[300, 100])


def _figures(a: dict[str, float], b: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame([a, b], index=pd.Index([A, B], name="code"))


def test_zip_shares_blend_places_and_area(counties, zips, places) -> None:
    # A: 400 of its 800 people live in its places (s = 1/2): Z1 takes ½·¾ + ½·½ = 0.625, Z2 0.375.
    # B has no place: area shares, Z2 an eighth, Z3 seven eighths.
    figures = _figures({"population": 800.0, "jobs": 80.0}, {"population": 1000.0, "jobs": 40.0})
    estimates = zip_estimates(figures, counties, zips, places)
    assert list(estimates.index) == ["00001", "00002", "00003"]
    assert estimates.index.name == "zip"
    expected = pd.DataFrame(
        {"population": [500.0, 300.0 + 125.0, 875.0], "jobs": [50.0, 30.0 + 5.0, 35.0]},
        index=estimates.index,
    )
    pd.testing.assert_frame_equal(estimates, expected, rtol=1e-6)


def test_places_holding_the_whole_county_take_it_all(counties, zips, places) -> None:
    # A's places hold 400 ≥ its 300 people: place shares alone, ¾ and ¼, exactly.
    estimates = zip_estimates(_figures({"population": 300.0}, {"population": 0.0}), counties, zips, places)
    assert estimates.loc["00001", "population"] == pytest.approx(225.0, rel=1e-12)
    assert estimates.loc["00002", "population"] == pytest.approx(75.0, rel=1e-12)


def test_without_a_population_figure_everything_goes_on_the_places(counties, zips, places) -> None:
    estimates = zip_estimates(_figures({"households": 40.0}, {"households": 8.0}), counties, zips, places)
    assert estimates["households"].to_list() == pytest.approx([30.0, 10.0 + 1.0, 7.0], rel=1e-6)


def test_a_county_whose_places_have_no_people_falls_back_to_area(counties, zips, places) -> None:
    empty = places.assign(population=0)
    estimates = zip_estimates(_figures({"population": 800.0}, {"population": 0.0}), counties, zips, empty)
    assert estimates["population"].to_list() == pytest.approx([400.0, 400.0, 0.0], rel=1e-6)


def test_nan_figures_stay_nan_where_their_county_reaches(counties, zips, places) -> None:
    figures = _figures({"population": 800.0, "jobs": 80.0}, {"population": 1000.0, "jobs": np.nan})
    estimates = zip_estimates(figures, counties, zips, places)
    assert estimates.loc["00001", "jobs"] == pytest.approx(50.0, rel=1e-6)
    assert estimates.loc[["00002", "00003"], "jobs"].isna().all()
    assert estimates["population"].notna().all()


def test_a_county_missing_from_the_figures_is_unknown(counties, zips, places) -> None:
    figures = _figures({"population": 800.0}, {"population": 1000.0}).loc[[A]]
    estimates = zip_estimates(figures, counties, zips, places)
    assert estimates.loc["00001", "population"] == pytest.approx(500.0, rel=1e-6)
    assert estimates.loc[["00002", "00003"], "population"].isna().all()


def test_zips_sharing_a_point_share_its_cell(counties, zips, places) -> None:
    twin = _points([("00004", WEST + 3 * CELL_DEG / 2, MIDDLE)], "zip")
    both = pd.concat([zips, twin], ignore_index=True)
    estimates = zip_estimates(_figures({"population": 800.0}, {"population": 1000.0}), counties, both, places)
    assert estimates.loc[["00003", "00004"], "population"].to_list() == pytest.approx(
        [437.5, 437.5], rel=1e-6
    )


def test_figures_must_be_counts(counties, zips, places) -> None:
    figures = _figures({"population": 800.0, "name": "A"}, {"population": 1000.0, "name": "B"})
    with pytest.raises(EstimateError, match="name"):
        zip_estimates(figures, counties, zips, places)


def test_h3_place_shares_exactly_and_cells_keyed_like_the_stored_keys(counties, places) -> None:
    estimates = h3_estimates(
        _figures({"population": 300.0}, {"population": 0.0}), counties, places, resolution=7
    )
    place_cells = h3_cells(places.geometry, 7)
    assert estimates.index.name == "cell"
    assert estimates.loc[place_cells, "population"].to_list() == pytest.approx([225.0, 75.0], rel=1e-12)
    assert estimates["population"].sum() == pytest.approx(300.0, rel=1e-12)
    assert (estimates.drop(place_cells)["population"] == 0).all()


def test_h3_area_fallback_follows_cell_areas(counties) -> None:
    nowhere = _points([], "name").assign(population=[])
    estimates = h3_estimates(
        _figures({"population": 1e6}, {"population": 2e6}), counties, nowhere, resolution=7
    )
    cells = estimates.index.to_numpy()
    areas = np.asarray(pa.array(h3ronpy.cells_area_m2(h3ronpy.cells_parse(pa.array(cells)))))
    whole = h3_cells(gpd.GeoSeries([Point(WEST + CELL_DEG / 2, MIDDLE)], crs="EPSG:4326"), 7).iloc[0]
    ratio = estimates["population"] / areas
    # A cell wholly inside A holds A's people per square metre; one crossing into B holds more.
    assert ratio.max() > ratio[whole]
    inside_a = ratio[(ratio - ratio[whole]).abs() < 1e-9 * ratio[whole]]
    assert len(inside_a) > 5
    assert estimates["population"].sum() == pytest.approx(3e6, rel=1e-12)


@pytest.mark.parametrize("resolution", [4, 10])
def test_h3_resolutions_outside_five_to_nine_are_refused(counties, places, resolution: int) -> None:
    with pytest.raises(EstimateError, match="5–9"):
        h3_estimates(
            _figures({"population": 1.0}, {"population": 1.0}), counties, places, resolution=resolution
        )


@pytest.fixture(scope="module")
def shipped() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    return read_counties(DATA_DIR), read_zips(DATA_DIR), read_cities(DATA_DIR)


def _one_hot(codes: pd.Index) -> pd.DataFrame:
    """One column per county holding its population (a seeded count), zero elsewhere."""
    people = np.random.default_rng(16).integers(10_000, 1_000_000, size=len(codes)).astype(float)
    figures = pd.DataFrame(np.diag(people), index=codes, columns=[f"p{code}" for code in codes])
    return figures.assign(population=people)


@pytest.mark.parametrize("state", ["10", "44"], ids=["DE", "RI"])
def test_every_county_sums_back_across_its_zones(shipped, state: str) -> None:
    counties, zips, places = shipped
    counties = counties[counties["state_code"] == state]
    figures = _one_hot(pd.Index(counties["code"], name="code"))
    for estimates in (
        zip_estimates(figures, counties, zips, places),
        h3_estimates(figures, counties, places, resolution=7),
    ):
        np.testing.assert_allclose(estimates.sum().to_numpy(), figures.sum().to_numpy(), rtol=1e-9)
        assert (estimates >= 0).all().all()


def test_a_nan_figure_stays_nan_on_shipped_data(shipped) -> None:
    counties, _, places = shipped
    counties = counties[counties["state_code"] == "10"]
    figures = _one_hot(pd.Index(counties["code"], name="code"))
    unknown = counties["code"].iloc[0]
    figures["jobs"] = figures["population"] / 2
    figures.loc[unknown, "jobs"] = np.nan
    estimates = h3_estimates(figures, counties, places, resolution=7)
    reached = estimates[f"p{unknown}"] > 0
    assert reached.any()
    assert estimates.loc[reached, "jobs"].isna().all()
    assert estimates.loc[~reached, "jobs"].notna().all()


def test_overlapping_areas_each_take_their_own_share(counties, places) -> None:
    # A: s = 1/2. The west half of A holds West (300 of the 400 placed people) and half its land:
    # ½·¾ + ½·½ = 0.625 of A. All of A takes A whole, B's west half takes half of B (no places).
    figures = _figures({"population": 800.0, "jobs": 80.0}, {"population": 1000.0, "jobs": np.nan})
    half = CELL_DEG / 2
    areas = gpd.GeoSeries(
        [
            box(WEST, SOUTH, WEST + half, SOUTH + CELL_DEG),
            box(WEST, SOUTH, WEST + CELL_DEG, SOUTH + CELL_DEG),
            box(WEST + CELL_DEG, SOUTH, WEST + CELL_DEG + half, SOUTH + CELL_DEG),
            box(WEST - 10, SOUTH, WEST - 9, SOUTH + 1),
            None,
        ],
        crs="EPSG:4326",
    )
    estimates = area_estimates(figures, counties, places, areas)
    # Boxes in degrees are not exact halves in the equal-area CRS (straight projected edges): 1e-4.
    assert estimates.loc[0, "population"] == pytest.approx(500.0, rel=1e-4)
    assert estimates.loc[1, "population"] == pytest.approx(800.0, rel=1e-9)
    assert estimates.loc[0, "jobs"] == pytest.approx(50.0, rel=1e-4)
    assert estimates.loc[2, "population"] == pytest.approx(500.0, rel=1e-4) and np.isnan(
        estimates.loc[2, "jobs"]
    )
    assert estimates.loc[3].tolist() == [0.0, 0.0]  # meets no county
    assert estimates.loc[4].isna().all()  # no shape
    alone = area_estimates(figures, counties, places, areas.iloc[[0]])
    assert alone.loc[0, "population"] == estimates.loc[0, "population"]  # not rescaled by the others


def test_a_county_as_an_area_takes_about_the_county_whole() -> None:
    counties = read_counties(DATA_DIR)
    figures = read_county_facts(DATA_DIR).pivot(index="code", columns="fact", values="value")[["population"]]
    kent = counties[counties["code"] == "10001"].geometry.reset_index(drop=True)
    estimates = area_estimates(figures, counties, read_cities(DATA_DIR), kent)
    # Plus the slivers of its neighbours the simplified outlines overlap by.
    assert estimates.loc[0, "population"] == pytest.approx(figures.loc["10001", "population"], rel=1e-3)


def test_a_citys_people_spread_over_a_disc_so_a_small_ring_takes_its_part(counties) -> None:
    """Regression: with places as points, a ring around a city's point took the whole city."""
    centre = (WEST + CELL_DEG / 2, MIDDLE)
    city = _points([("City", *centre)], "name").assign(population=[100_000])
    figures = _figures({"population": 100_000.0}, {"population": 0.0})
    rings = gpd.GeoSeries([geodesic_circle(*centre, r) for r in (2_000.0, 5_000.0)], crs="EPSG:4326")
    estimates = area_estimates(figures, counties, city, rings)
    disc_km2 = 100_000 / PLACE_DENSITY_PER_KM2  # 50 km², a radius of 4 km: inside county A
    assert estimates.loc[0, "population"] == pytest.approx(100_000 * np.pi * 2**2 / disc_km2, rel=0.02)
    assert estimates.loc[1, "population"] == pytest.approx(100_000, rel=1e-6)
