"""Opportunity and white space: expected customers from the book's penetration in comparable regions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gcrm import app
from geo.analysis.cube_answers import answer_cube
from geo.analysis.market import check_denominator, opportunity, white_space
from geo.analysis.market_answers import market_figures, white_space_regions
from geo.config import Settings
from geo.errors import CubeQueryError
from geo.field.accounts import load_facts
from geo.store.bootstrap import prepare_database
from geo.store.region_facts import read_facts
from geo.store.users import add_user


def test_opportunity_by_hand_within_comparison_groups() -> None:
    customers = pd.Series({"a": 10, "b": 0, "c": 5, "d": 1, "e": 3})
    market = pd.Series({"a": 1_000.0, "b": 1_000.0, "c": 500.0, "d": 1_500.0, "e": np.nan})
    groups = pd.Series({"a": 1, "b": 1, "c": 0, "d": 0, "e": 0})
    result = opportunity(customers, market, groups)
    # Group 1: 10 customers in 2,000 → 0.005 each; group 0: 6 in 2,000 → 0.003 (e unknown).
    assert result.loc["a", "expected"] == 5.0 and result.loc["a", "opportunity"] == -5.0
    assert result.loc["b", "expected"] == 5.0 and result.loc["b", "opportunity"] == 5.0
    assert result.loc["c", "expected"] == pytest.approx(1.5) and result.loc["d", "expected"] == pytest.approx(
        4.5
    )
    assert result.loc["d", "opportunity"] == pytest.approx(3.5)
    assert np.isnan(result.loc["e", "expected"]) and np.isnan(result.loc["e", "opportunity"])
    one_group = opportunity(customers, market)
    assert one_group.loc["b", "expected"] == pytest.approx(1_000 * 16 / 4_000)


def test_white_space_keeps_positive_unvisited_regions_best_first() -> None:
    regions = pd.DataFrame(
        {
            "key": ["a", "b", "c", "d"],
            "name": ["A", "B", "C", "D"],
            "market": [1.0, 2.0, 3.0, 4.0],
            "customers": [0, 0, 1, 5],
            "expected": [4.0, 6.0, 3.0, 2.0],
            "opportunity": [4.0, 6.0, 2.0, -3.0],
            "visited": [0, 0, 2, 0],
        }
    )
    assert list(white_space(regions, limit=5)["key"]) == ["b", "a"]
    assert list(white_space(regions, limit=1)["key"]) == ["b"]


def test_an_unknown_denominator_lists_the_choices_and_case_does_not_matter() -> None:
    assert check_denominator(" Households ") == "households"
    with pytest.raises(CubeQueryError, match="choose one of population, households, jobs, establishments"):
        check_denominator("people")


def test_white_space_of_the_demo_book_is_consistent(demo_settings: Settings, environment) -> None:
    connections = prepare_database(demo_settings)
    try:
        ranked = white_space_regions(
            connections.app, level="county", denominator="population", user="t", limit=3200
        )
        counties = read_facts(connections.app, "county", user="t", facts=["population"])
    finally:
        connections.close()
    assert len(ranked) > 100
    assert (ranked["opportunity"] > 0).all() and (ranked["visited"] == 0).all()
    assert ranked["opportunity"].is_monotonic_decreasing
    assert (ranked["expected"] - ranked["customers"] - ranked["opportunity"]).abs().max() < 1e-9
    assert (ranked["market"].to_numpy() == counties.loc[ranked["key"], "population"].to_numpy()).all()
    assert ranked["name"].notna().all()
    environment(demo_settings)
    result = CliRunner().invoke(app, ["regions", "white-space", "--per", "ESTABLISHMENTS", "--limit", "5"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "key,name,market,customers,expected,opportunity,visited" and len(lines) == 6
    refused = CliRunner().invoke(app, ["regions", "white-space", "--per", "people"])
    assert refused.exit_code != 0 and "choose one of population" in refused.output


def test_the_cubes_market_measures_roll_up_like_the_book(demo_settings: Settings) -> None:
    connections = prepare_database(demo_settings)
    try:
        measures = ["customers", "population", "households", "jobs", "penetration_households"]
        states = answer_cube(connections.app, demo_settings.data_dir, by="state", measures=measures, user="t")
        counties = read_facts(connections.app, "county", user="t", facts=["population", "households", "jobs"])
    finally:
        connections.close()
    states = states.set_index("key")
    summed = counties.groupby(counties.index.str[:2]).sum().reindex(states.index)
    for fact in ("population", "households", "jobs"):
        known = states[fact].notna()
        assert known.sum() >= 40
        assert (states.loc[known, fact] == summed.loc[known, fact]).all(), fact
    by_hand = 1_000 * states["customers"] / states["households"]
    assert np.allclose(states["penetration_households"], by_hand, equal_nan=True)


def test_zip_market_figures_are_estimates_that_add_up_to_the_counties(demo_settings: Settings) -> None:
    connections = prepare_database(demo_settings)
    try:
        zips = market_figures(connections.app, demo_settings.data_dir, "zip", user="t")
        counties = read_facts(connections.app, "county", user="t", facts=["population", "households"])
        table = answer_cube(
            connections.app, demo_settings.data_dir, by="zip", measures=["customers", "population"], user="t"
        )
    finally:
        connections.close()
    for fact in ("population", "households"):
        assert zips[fact].sum() == pytest.approx(counties[fact].sum(), rel=1e-9)
    table = table.set_index("key")
    assert table["population"].notna().mean() > 0.95
    shown = table["population"].dropna()
    assert (shown == zips.loc[shown.index, "population"]).all()


def test_the_cube_command_says_where_market_figures_are_estimates(
    demo_settings: Settings, environment
) -> None:
    environment(demo_settings)
    runner = CliRunner()
    by_zip = runner.invoke(app, ["cube", "--by", "zip", "--measure", "customers,population"])
    by_segment = runner.invoke(app, ["cube", "--by", "segment", "--measure", "households"])
    assert by_zip.exit_code == by_segment.exit_code == 0, by_zip.output + by_segment.output
    assert "note: population by zip are estimates apportioned from the counties" in by_zip.stderr
    assert "note: households are unknown by segment (known by state, county, zip)" in by_segment.stderr


def test_a_reps_white_space_lies_in_the_states_of_their_accounts(planned) -> None:
    _settings, connections = planned
    with connections.owner.transaction(user="t") as cur:
        cur.execute("SELECT external_id FROM reps ORDER BY rep_id LIMIT 1")
        rep = cur.fetchone()[0]
    add_user(connections.owner, "rico", role="rep", password="rico-password-1", actor="t", rep=rep)
    ranked = white_space_regions(connections.app, level="county", denominator="households", user="rico")
    book = load_facts(connections.app, user="rico")
    states = set(book.accounts["state_fips"].dropna())
    everyone = white_space_regions(connections.app, level="county", denominator="households", user="t")
    assert len(ranked) > 0 and set(ranked["key"].str[:2]) <= states
    held = white_space_regions(
        connections.app, level="county", denominator="households", user="rico", facts=book
    )
    pd.testing.assert_frame_equal(held, ranked)
    assert len(states) < 30 and not set(everyone["key"].str[:2]) <= states
