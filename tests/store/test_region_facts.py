"""Region facts in PostGIS: the shipped county table loads at set-up and states follow their counties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.config import PROJECT_DIR
from geo.field.accounts import data_version
from geo.store.bootstrap import Connections
from geo.store.boundaries import load_regions
from geo.store.db import SYSTEM_USER
from geo.store.region_facts import fact_catalogue, read_facts, store_county_facts
from geo.store.shipped_data import read_county_facts

USER = "t"


def test_state_totals_are_the_sums_of_their_counties(connections: Connections) -> None:
    counties = read_facts(connections.app, "county", user=USER)
    states = read_facts(connections.app, "state", user=USER)
    state_of = counties.index.str[:2]
    for fact in ("population", "households", "jobs", "establishments", "housing_units"):
        summed = counties[fact].groupby(state_of).sum()
        pd.testing.assert_series_equal(states[fact].loc[summed.index], summed, check_names=False)
    assert (
        states.loc["06", "population"]
        == counties.loc[counties.index.str.startswith("06"), "population"].sum()
    )
    assert 324e6 < states["population"].sum() < 325e6  # the 2019 total the data's README checked


def test_weighted_means_follow_their_weight_and_medians_stay_county_level(connections: Connections) -> None:
    counties = read_facts(connections.app, "county", user=USER)
    states = read_facts(connections.app, "state", user=USER)
    illinois = counties[counties.index.str.startswith("17")]
    by_hand = (illinois["per_capita_income"] * illinois["population"]).sum() / illinois["population"].sum()
    assert states.loc["17", "per_capita_income"] == pytest.approx(by_hand, rel=1e-12)
    multi = (illinois["pct_housing_multi_unit"] * illinois["housing_units"]).sum() / illinois[
        "housing_units"
    ].sum()
    assert states.loc["17", "pct_housing_multi_unit"] == pytest.approx(multi, rel=1e-12)
    for fact in ("median_household_income", "median_age", "median_home_value", "pct_unemployed"):
        assert fact not in states or states[fact].isna().all(), f"{fact} averaged into states"
    catalogue = fact_catalogue(connections.app, user=USER).set_index("fact")
    assert catalogue.loc["median_household_income", "kind"] == "county"
    assert catalogue.loc["per_capita_income", "weight"] == "population"


def test_every_shipped_value_loads_and_population_reaches_the_regions(connections: Connections) -> None:
    shipped = read_county_facts(PROJECT_DIR / "data")
    loaded = read_facts(connections.app, "county", user=USER)
    assert int(loaded.notna().sum().sum()) == len(shipped)
    regions = load_regions(connections.app, "state", user=USER).set_index("code")
    assert (
        regions.loc["17", "population"]
        == read_facts(connections.app, "state", user=USER).loc["17", "population"]
    )


def test_a_county_write_recomputes_its_state_in_the_same_transaction(connections: Connections) -> None:
    before = read_facts(connections.app, "state", user=USER, facts=["population"]).loc["10", "population"]
    old = read_facts(connections.app, "county", user=USER, facts=["population"]).loc["10001", "population"]
    version = data_version(connections.app, user=USER, tables=("region_facts",))
    store_county_facts(
        connections.app,
        pd.DataFrame(
            {"code": ["10001"], "fact": ["population"], "value": [old + 1000.0], "vintage": ["2023"]}
        ),
        source="test",
        user=USER,
    )
    after = read_facts(connections.app, "state", user=USER, facts=["population"]).loc["10", "population"]
    assert after == before + 1000.0
    assert data_version(connections.app, user=USER, tables=("region_facts",)) != version


def test_states_without_any_county_value_have_no_value(connections: Connections) -> None:
    states = read_facts(connections.app, "state", user=SYSTEM_USER, facts=["population", "firms"])
    assert np.isnan(states.loc["72", "population"]) if "72" in states.index else True
    assert "72" not in read_facts(connections.app, "state", user=SYSTEM_USER).index  # Puerto Rico: none ship
