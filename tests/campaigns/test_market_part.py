"""Counties by their market as a campaign target: conditions on region facts, all of which hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gcrm import app
from geo.campaigns.target import market_part
from geo.config import Settings
from geo.errors import CampaignError
from geo.store.bootstrap import prepare_database
from geo.store.region_facts import read_facts

FACTS = pd.DataFrame(
    {
        "median_household_income": [80_000.0, 60_000.0, np.nan, 100_000.0],
        "metro": [1.0, 1.0, 1.0, 0.0],
    },
    index=pd.Index(["17031", "17043", "17097", "17001"], name="code"),
)


@pytest.mark.parametrize(
    ("conditions", "codes"),
    [
        (["median_household_income>=80000"], ("17001", "17031")),
        (["Median Household Income > 80,000"], ("17001",)),
        (["median_household_income<70000"], ("17043",)),
        (["metro=1"], ("17031", "17043", "17097")),
        (["metro = 1", "median_household_income >= 60000"], ("17031", "17043")),
    ],
)
def test_counties_meeting_every_condition(conditions: list[str], codes: tuple[str, ...]) -> None:
    part = market_part(FACTS, conditions)
    assert (part.kind, part.level, part.codes, part.operation) == ("region", "county", codes, "union")


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        (["income>=5"], "Unknown fact 'income'; facts are: median_household_income, metro"),
        (["metro is 1"], "Cannot read the market condition 'metro is 1'"),
        (["median_household_income>1000000"], "No county meets median_household_income>1000000"),
        ([], "No county meets no condition"),
    ],
)
def test_a_condition_that_cannot_hold_says_why(conditions: list[str], message: str) -> None:
    with pytest.raises(CampaignError, match=message):
        market_part(FACTS, conditions)


def test_the_audience_narrowed_to_rich_metro_counties(demo_settings: Settings, environment) -> None:
    connections = prepare_database(demo_settings)
    try:
        counties = read_facts(connections.app, "county", user="t")
    finally:
        connections.close()
    rich = set(counties.index[(counties["median_household_income"] >= 75_000) & (counties["metro"] == 1)])
    environment(demo_settings)
    runner = CliRunner()
    whole = runner.invoke(app, ["campaign", "audience", "--regions", "state:CA,TX,NY"])
    narrowed = runner.invoke(
        app,
        [
            "campaign", "audience", "--regions", "state:CA,TX,NY",
            "--counties-where", "median_household_income>=75000", "--counties-where", "metro=1",
        ],
    )  # fmt: skip
    alone = runner.invoke(app, ["campaign", "audience", "--counties-where", "median_household_income>=75000"])
    assert whole.exit_code == narrowed.exit_code == alone.exit_code == 0, narrowed.output + alone.output
    members = pd.read_csv(pd.io.common.StringIO(narrowed.stdout), dtype=str)
    everyone = pd.read_csv(pd.io.common.StringIO(whole.stdout), dtype=str)
    assert 0 < len(members) < len(everyone)
    assert set(members["county_fips"]) <= rich
    assert set(members["state_fips"]) <= {"06", "48", "36"}
    expected = everyone[everyone["county_fips"].isin(rich)]
    assert sorted(members["external_id"]) == sorted(expected["external_id"])
    assert len(pd.read_csv(pd.io.common.StringIO(alone.stdout))) >= len(members)
