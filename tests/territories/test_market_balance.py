"""Territories balanced on the market (households, jobs …) as well as on the book."""

from __future__ import annotations

import pytest

from geo.store.region_facts import read_facts
from territories.book_alignment import propose_alignment
from territories.metrics import balance_index

PLANNER = "manager@test"
STATES = ["17", "18", "55"]
"""Illinois, Indiana, Wisconsin: 286 counties."""


def _align(planned, measures: list[str], level: str = "county"):
    settings, connections = planned
    return propose_alignment(
        connections.app, settings.data_dir, level=level, k=4, measures=measures, user=PLANNER, states=STATES
    )


def test_households_are_balanced_and_reported_beside_the_accounts(planned) -> None:
    connections = planned[1]
    on_accounts = _align(planned, ["accounts"])
    on_both = _align(planned, ["accounts", "households"])
    on_households = _align(planned, ["households"])
    counties = read_facts(connections.app, "county", user=PLANNER, facts=["households"])
    in_area = counties[counties.index.str[:2].isin(STATES)]["households"].sum()
    report = on_both.report
    assert {"accounts", "households"} <= set(report.columns)
    assert report["households"].sum() == pytest.approx(in_area, rel=1e-9)
    households_alone = balance_index(on_households.report["households"])
    assert households_alone > 0.9
    assert households_alone > balance_index(_with_households(on_accounts, counties)["households"])


def test_zip_units_take_their_estimated_market(planned) -> None:
    result = _align(planned, ["accounts", "jobs"], level="zip")
    assert result.units["jobs"].gt(0).mean() > 0.9
    assert "jobs" in result.report.columns


def _with_households(result, counties):
    units = result.units.assign(households=result.units["code"].map(counties["households"]).fillna(0.0))
    return units.groupby("territory")[["households"]].sum()
