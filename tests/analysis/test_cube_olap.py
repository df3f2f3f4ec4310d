"""The cube on hand-built facts with known answers: every measure, each operation."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.analysis.cube import (
    BASE,
    CUBE_MEASURES,
    Facts,
    base_figures,
    complete_members,
    cube,
    dimension_keys,
    drill_down,
    empty_members,
    parse_period,
    pivot_time,
    roll_up,
)
from geo.errors import CubeQueryError

CHICAGO = h3.latlng_to_cell(41.88, -87.63, 9)
SAN_FRANCISCO = h3.latlng_to_cell(37.77, -122.42, 9)


@pytest.fixture
def facts() -> Facts:
    accounts = pd.DataFrame(
        {
            "account_id": [1, 2, 3, 4, 5],
            "status": ["customer", "churned", "prospect", "customer", "customer"],
            "segment": ["SMB", "Enterprise", "SMB", "SMB", "SMB"],
            "industry": ["Retail", "Retail", "Energy", "Energy", "Retail"],
            "owner_rep_id": [1, 1, 2, 2, None],
            "territory_id": [None] * 5,
            "state_fips": ["17", "17", "06", "06", None],
            "county_fips": ["17031", "17043", "06075", "06075", None],
            "zip": ["60601", "60515", "94103", "94103", None],
            "h3_r5": [h3.cell_to_parent(CHICAGO, 5)] * 2 + [h3.cell_to_parent(SAN_FRANCISCO, 5)] * 2 + [None],
            "h3_r7": [h3.cell_to_parent(CHICAGO, 7)] * 2 + [h3.cell_to_parent(SAN_FRANCISCO, 7)] * 2 + [None],
            "h3_r9": [CHICAGO] * 2 + [SAN_FRANCISCO] * 2 + [None],
        }
    )
    orders = pd.DataFrame(
        {
            "account_id": [1, 1, 1, 2, 4, 4, 5],
            "order_date": pd.to_datetime(
                [
                    "2025-01-10",
                    "2025-02-01",
                    "2024-02-01",
                    "2025-03-01",
                    "2025-06-30",
                    "2024-12-31",
                    "2025-01-01",
                ]
            ),
            "amount": [100.0, 50.0, 60.0, 40.0, 10.0, 5.0, 1000.0],
        }
    )
    return Facts(accounts=accounts, orders=orders)


@pytest.mark.parametrize(
    ("text", "start", "end", "previous"),
    [
        ("2025", date(2025, 1, 1), date(2026, 1, 1), date(2024, 1, 1)),
        ("2025q1", date(2025, 1, 1), date(2025, 4, 1), date(2024, 10, 1)),
        ("2025Q4", date(2025, 10, 1), date(2026, 1, 1), date(2025, 7, 1)),
        ("2025-03", date(2025, 3, 1), date(2025, 4, 1), date(2025, 2, 1)),
        ("2025-01", date(2025, 1, 1), date(2025, 2, 1), date(2024, 12, 1)),
    ],
)
def test_parse_period(text: str, start: date, end: date, previous: date) -> None:
    period = parse_period(text)
    assert (period.start, period.end, period.previous_start) == (start, end, previous)


@pytest.mark.parametrize("text", ["2025Q5", "2025-13", "last year", ""])
def test_parse_period_refuses(text: str) -> None:
    with pytest.raises(CubeQueryError, match="is not a year"):
        parse_period(text)


def test_every_measure_by_state_in_a_quarter(facts: Facts) -> None:
    market = pd.DataFrame(
        {
            "population": [20_000.0, np.nan],
            "households": [8_000.0, np.nan],
            "establishments": [400.0, np.nan],
        },
        index=["17", "06"],
    )
    result = cube(
        facts,
        by="state",
        measures=list(CUBE_MEASURES),
        period=parse_period("2025Q1"),
        market=market,
    )
    il, ca = result.loc["17"], result.loc["06"]
    assert (il["accounts"], il["customers"], il["prospects"], il["churned"]) == (2, 1, 0, 1)
    assert (ca["accounts"], ca["customers"], ca["prospects"], ca["churned"]) == (2, 1, 1, 0)
    assert il["churn_rate"] == 50.0 and ca["churn_rate"] == 0.0
    assert (il["revenue"], il["orders"]) == (190.0, 3)
    assert (ca["revenue"], ca["orders"]) == (0.0, 0)
    assert il["avg_order_value"] == pytest.approx(190 / 3) and np.isnan(ca["avg_order_value"])
    assert il["revenue_per_customer"] == 190.0 and ca["revenue_per_customer"] == 0.0
    assert np.isnan(il["growth"]) and ca["growth"] == -100.0
    assert il["revenue_share"] == 100.0 and ca["revenue_share"] == 0.0
    assert il["account_share"] == 50.0
    assert il["penetration"] == 0.5 and np.isnan(ca["penetration"])
    # By hand: 1 customer in 20,000 people, 8,000 households and 400 establishments; half the
    # customers against all the known population.
    assert il["penetration_households"] == 0.125 and il["penetration_establishments"] == 0.25
    assert il["revenue_per_household"] == 190.0 / 8_000 and il["market_index"] == 50.0
    assert (il["population"], il["households"], il["establishments"]) == (20_000.0, 8_000.0, 400.0)
    assert np.isnan(il["jobs"])  # not given: unknown, never 0
    assert all(np.isnan(ca[m]) for m in ("penetration_households", "revenue_per_household", "market_index"))
    assert list(result.index) == ["06", "17"]


def test_without_a_period_all_orders_count_and_growth_is_undefined(facts: Facts) -> None:
    result = cube(facts, by="state", measures=["revenue", "orders", "growth"])
    assert result.loc["17", "revenue"] == 250.0 and result.loc["06", "revenue"] == 15.0
    assert result["growth"].isna().all()


def test_totals_equal_a_plain_count_and_sum(facts: Facts) -> None:
    keyed = base_figures(facts, by="status")
    assert keyed["accounts"].sum() == len(facts.accounts)
    assert keyed["revenue"].sum() == facts.orders["amount"].sum()
    by_state = base_figures(facts, by="state")
    assert by_state["accounts"].sum() == 4 and by_state["revenue"].sum() == 265.0


@pytest.mark.parametrize(("child", "parent", "length"), [("county", "state", 2), ("zip", "state", None)])
def test_roll_up_gives_exactly_the_coarser_query(
    facts: Facts, child: str, parent: str, length: int | None
) -> None:
    period = parse_period("2025")
    fine = base_figures(facts, by=child, period=period)
    child_keys = dimension_keys(facts.accounts, child)
    parent_keys = dimension_keys(facts.accounts, parent)
    parent_of = pd.Series(parent_keys.to_numpy(), index=child_keys.to_numpy()).dropna()
    parent_of = parent_of[~parent_of.index.duplicated()]
    rolled = roll_up(fine, parent_of).sort_index()
    pd.testing.assert_frame_equal(
        rolled[BASE], base_figures(facts, by=parent, period=period).sort_index()[BASE], check_dtype=False
    )


def test_h3_levels_nest(facts: Facts) -> None:
    for resolution in (5, 6, 7, 8, 9):
        result = cube(facts, by=f"h3_{resolution}", measures=["accounts"])
        assert sorted(result["accounts"]) == [2, 2]
        assert {h3.get_resolution(k) for k in result.index} == {resolution}


def test_slice_and_dice(facts: Facts) -> None:
    smb = cube(facts, by="state", measures=["accounts", "revenue"], where={"segment": ["SMB"]})
    assert smb.loc["17", "accounts"] == 1 and smb.loc["17", "revenue"] == 210.0
    diced = cube(facts, by="industry", measures=["accounts"], where={"segment": ["SMB"], "state": ["06"]})
    assert diced["accounts"].to_dict() == {"Energy": 2}
    by_rep = cube(facts, by="rep", measures=["customers"])
    assert by_rep["customers"].to_dict() == {"1": 1, "2": 1}


def test_drill_down_path(facts: Facts) -> None:
    assert drill_down("state", "17") == ("county", {"state": ["17"]})
    level, where = drill_down("county", "17031")
    assert cube(facts, by=level, measures=["accounts"], where=where)["accounts"].to_dict() == {"60601": 1}
    assert drill_down("zip", "60601") == ("accounts", {"zip": ["60601"]})
    with pytest.raises(CubeQueryError, match="Cannot drill down from 'segment'"):
        drill_down("segment", "SMB")


def test_pivot_geography_by_time(facts: Facts) -> None:
    pivot = pivot_time(facts, by="state", grain="year")
    assert pivot.loc["17"].to_dict() == {"2024": 60.0, "2025": 190.0}
    assert pivot.loc["06"].to_dict() == {"2024": 5.0, "2025": 10.0}
    quarters = pivot_time(facts, by="state", grain="quarter")
    assert quarters.loc["17", "2025Q1"] == 190.0 and quarters.loc["06", "2025Q2"] == 10.0


def test_unknown_names_are_refused(facts: Facts) -> None:
    with pytest.raises(CubeQueryError, match="Unknown dimension 'planet'"):
        cube(facts, by="planet", measures=["accounts"])
    with pytest.raises(CubeQueryError, match="Unknown measure"):
        cube(facts, by="state", measures=["happiness"])


def test_complete_members_adds_empty_regions() -> None:
    table = gpd.GeoDataFrame(
        {"key": ["02"], "name": ["B"], "accounts": [3], "churn_rate": [50.0]},
        geometry=[box(1, 0, 2, 1)],
        crs="EPSG:4326",
    )
    regions = gpd.GeoDataFrame(
        {"code": ["01", "02"], "name": ["A", "B"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs="EPSG:4326",
    )
    full = complete_members(table, regions)
    assert list(full["key"]) == ["01", "02"]
    assert list(full["accounts"]) == [0, 3]
    assert np.isnan(full.loc[0, "churn_rate"]) and full.loc[1, "churn_rate"] == 50.0


@pytest.mark.parametrize(
    ("measure", "empty"),
    [
        ("accounts", [True, False]),
        ("revenue", [True, False]),
        ("churn_rate", [True, False]),
        ("population", [False, False]),
        ("penetration", [False, False]),
    ],
)
def test_a_region_without_accounts_is_empty_except_for_the_market(measure: str, empty: list[bool]) -> None:
    """The book's own measures say nothing of a region without accounts; its market is known (white space)."""
    table = pd.DataFrame({"key": ["01", "02"], "accounts": [0, 3]}, index=[7, 9])
    got = empty_members(table, measure)
    assert list(got) == empty and list(got.index) == [7, 9]
