"""The cube on the demo book in PostGIS: totals equal plain SQL, roll-ups are exact, the CLI prints it."""

from __future__ import annotations

import re
from io import StringIO

import pandas as pd
import pytest
from typer.testing import CliRunner

from gcrm import app
from geo.analysis.cube import BASE, base_figures, parse_period, roll_up
from geo.analysis.cube_answers import answer_cube
from geo.config import Settings
from geo.field.accounts import load_facts
from geo.store.bootstrap import prepare_database


@pytest.fixture(scope="module")
def conns(demo_settings: Settings):
    connections = prepare_database(demo_settings)
    yield connections
    connections.close()


def _sql(conns, query: str) -> list[tuple]:
    with conns.app.transaction(user="t") as cur:
        cur.execute(query)
        return cur.fetchall()


def test_totals_equal_a_plain_query(conns) -> None:
    facts = load_facts(conns.app, user="t")
    period = parse_period("2025")
    by_state = base_figures(facts, by="state", period=period)
    [(accounts, customers, churned)] = _sql(
        conns,
        "SELECT count(*), count(*) FILTER (WHERE status = 'customer'),"
        " count(*) FILTER (WHERE status = 'churned')"
        " FROM accounts WHERE state_fips IS NOT NULL",
    )
    [(revenue, orders)] = _sql(
        conns,
        "SELECT sum(o.amount), count(*) FROM orders o JOIN accounts a USING (account_id)"
        " WHERE o.stage = 'won' AND a.state_fips IS NOT NULL"
        " AND o.order_date >= '2025-01-01' AND o.order_date < '2026-01-01'",
    )
    assert (by_state["accounts"].sum(), by_state["customers"].sum(), by_state["churned"].sum()) == (
        accounts,
        customers,
        churned,
    )
    assert by_state["revenue"].sum() == pytest.approx(float(revenue), abs=0.01)
    assert by_state["orders"].sum() == orders
    per_state = dict(
        _sql(
            conns,
            "SELECT a.state_fips, sum(o.amount)::float FROM orders o JOIN accounts a USING (account_id)"
            " WHERE o.order_date >= '2025-01-01' AND o.order_date < '2026-01-01' GROUP BY 1",
        )
    )
    for state, amount in per_state.items():
        assert by_state.loc[state, "revenue"] == pytest.approx(amount, abs=0.01)


def test_county_rolled_up_is_exactly_state(conns) -> None:
    facts = load_facts(conns.app, user="t")
    period = parse_period("2025Q2")
    counties = base_figures(facts, by="county", period=period)
    parent_of = pd.Series(counties.index.str[:2], index=counties.index)
    rolled = roll_up(counties, parent_of).sort_index()
    states = base_figures(facts, by="state", period=period).sort_index()
    pd.testing.assert_frame_equal(
        rolled[BASE], states[BASE], check_dtype=False, check_exact=False, rtol=1e-12
    )


def test_answer_has_names_and_geometry(conns, demo_settings: Settings) -> None:
    table = answer_cube(
        conns.app,
        demo_settings.data_dir,
        by="county",
        measures=["accounts", "revenue"],
        user="t",
        where={"state": ["17"]},
    )
    assert list(table.columns) == ["key", "name", "accounts", "revenue", "geometry"]
    assert table["key"].str.startswith("17").all()
    assert table.loc[table["key"] == "17031", "name"].item() == "Cook, Illinois"
    assert table.geometry.notna().all() and table.crs == "EPSG:4326"
    reps = answer_cube(conns.app, demo_settings.data_dir, by="rep", measures=["customers"], user="t")
    assert reps["name"].str.contains(" ").all() and reps.geometry.isna().all()


def test_trade_areas_partition_the_placed_accounts(conns, demo_settings: Settings) -> None:
    table = answer_cube(
        conns.app, demo_settings.data_dir, by="trade_area", measures=["accounts", "revenue"], user="t"
    )
    [(placed, revenue)] = _sql(
        conns,
        "SELECT (SELECT count(*) FROM accounts WHERE geom IS NOT NULL),"
        " (SELECT sum(o.amount)::float FROM orders o JOIN accounts a USING (account_id)"
        " WHERE o.stage = 'won' AND a.geom IS NOT NULL)",
    )
    assert table["accounts"].sum() == placed
    assert table["revenue"].sum() == pytest.approx(revenue, abs=0.01)
    names = dict(_sql(conns, "SELECT branch_id::text, name FROM branches"))
    assert (table["name"] == table["key"].map(names)).all()
    assert table.geometry.notna().all() and table.geometry.is_valid.all()
    [(key, nearest)] = _sql(
        conns,
        "SELECT a.account_id, (SELECT b.branch_id FROM branches b"
        " ORDER BY a.geom::geography <-> b.geom::geography LIMIT 1)"
        " FROM accounts a WHERE a.geom IS NOT NULL ORDER BY a.account_id LIMIT 1",
    )
    facts = load_facts(conns.app, user="t")
    assert facts.accounts.set_index("account_id").loc[key, "trade_area"] == nearest


def test_cli_cube_csv_and_geojson(demo_settings: Settings, environment) -> None:
    environment(demo_settings)
    result = CliRunner().invoke(
        app,
        [
            "cube",
            "--by",
            "state",
            "--measure",
            "accounts,revenue,growth",
            "--period",
            "2025Q1",
            "--where",
            "segment=SMB,Mid-Market",
        ],
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(StringIO(result.output), dtype={"key": str})
    assert list(frame.columns) == ["key", "name", "accounts", "revenue", "growth"]
    assert frame["key"].str.fullmatch(r"\d{2}").all() and "California" in set(frame["name"])
    geojson = CliRunner().invoke(
        app, ["cube", "--by", "h3_5", "--measure", "accounts", "--format", "geojson"]
    )
    assert geojson.exit_code == 0 and '"Polygon"' in geojson.output
    bad = CliRunner().invoke(app, ["cube", "--by", "state", "--period", "2025Q9"])
    assert bad.exit_code == 1 and "is not a year" in bad.output


def test_cli_cube_as_a_table_names_members_and_formats_figures(demo_settings: Settings, environment) -> None:
    environment(demo_settings)
    args = ["cube", "--by", "state", "--measure", "accounts,revenue,churn_rate"]
    csv = pd.read_csv(StringIO(CliRunner().invoke(app, args).stdout), dtype={"key": str})
    result = CliRunner().invoke(app, [*args, "--format", "table"])
    assert result.exit_code == 0, result.output
    header, rule, *rows = result.stdout.splitlines()
    assert re.split(r"\s{2,}", header) == ["State", "Key", "Accounts", "Revenue", "Churn rate (%)"]
    assert set(rule) == {"-", " "} and len(rows) == len(csv)
    cells = [re.split(r"\s{2,}", row.strip()) for row in rows]
    assert [cell[1] for cell in cells] == list(csv["key"])
    by_name = {cell[0]: cell for cell in cells}
    biggest = csv.loc[csv["accounts"].idxmax()]
    assert by_name[biggest["name"]][2] == f"{biggest['accounts']:,}"
    assert by_name[biggest["name"]][3] == f"${round(biggest['revenue']):,}"
    assert all(re.fullmatch(r"[\d.]+%|—", cell[4]) for cell in cells)
    hexagons = CliRunner().invoke(app, ["cube", "--by", "h3_5", "--format", "table"])
    assert hexagons.exit_code == 0, hexagons.output
    first = re.split(r"\s{2,}", hexagons.stdout.splitlines()[2].strip())
    assert re.fullmatch(r"Near .+, [A-Z]{2}", first[0]) and re.fullmatch(r"85[0-9a-f]{13}", first[1])
    assert "None" not in result.stdout + hexagons.stdout


def test_cube_by_territory_sorts_its_keys_as_numbers(planned, environment) -> None:
    """Regression: territory ids came out as text ("10" before "2")."""
    settings, _conns = planned
    environment(settings)
    result = CliRunner().invoke(app, ["cube", "--by", "territory"])
    assert result.exit_code == 0, result.output
    keys = pd.read_csv(StringIO(result.stdout))["key"].tolist()
    assert len(keys) >= 10 and keys == sorted(keys)
