"""Territory plans in PostGIS: starter plan, versions, what-if equal to saving, locks, overrides, gaps."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from gcrm import app
from geo.analysis.cube_answers import answer_cube
from geo.errors import TerritoryError
from geo.ingest.territory_keys import assign_territories
from geo.store.db import BOOK_WRITE_TIMEOUT
from territories.metrics import KPI_COLUMNS, territory_kpis
from territories.model import (
    active_version,
    create_version,
    load_book,
    lock_territory,
    lock_units,
    move_units,
    publish,
    save_plan,
    save_shape,
    set_override,
    shapes_of_accounts,
    territory_table,
    version_plan,
    versions,
)
from territories.plan import gaps, overlaps, plan_accounts, preview

USER = "manager@test"


def _kpis_from_accounts(db, territories: pd.DataFrame) -> pd.DataFrame:
    book = load_book(db, "county", user=USER)
    return territory_kpis(book, territories)[KPI_COLUMNS]


def _adjacent_move(db, version: int) -> tuple[str, int, int]:
    """A county holding accounts, its territory, and another territory it could go to."""
    _level, plan, _locked = version_plan(db, version, user=USER)
    book = load_book(db, "county", user=USER)
    busy = book.groupby("unit").size().sort_values(ascending=False)
    unit = next(u for u in busy.index if u in plan.index)
    source = int(plan[unit])
    target = int(next(t for t in plan.unique() if int(t) != source))
    return unit, source, target


def test_starter_plan_gives_every_placed_account_a_territory(planned) -> None:
    _settings, conns = planned
    db = conns.app
    version = active_version(db, user=USER)
    assert version is not None
    table = territory_table(db, user=USER)
    territories = table[table["kind"] == "territory"]
    with db.transaction(user=USER) as cur:
        cur.execute("SELECT count(*) FROM reps")
        assert cur.fetchone()[0] == len(territories)
        cur.execute("SELECT count(*) FROM accounts WHERE county_fips IS NOT NULL AND territory_id IS NULL")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT actor, action, target FROM audit_log WHERE action = 'territory.publish'")
        assert cur.fetchall() == [(USER, "territory.publish", f"version:{version}")]
    assert territories["parent_id"].notna().all()
    assert set(table.loc[territories["parent_id"].astype(int), "kind"]) == {"region"}
    assert territories["rep_id"].is_unique


def test_what_if_preview_equals_what_saving_and_publishing_produce(planned) -> None:
    _settings, conns = planned
    db = conns.app
    active = active_version(db, user=USER)
    territories = territory_table(db, user=USER).query("kind == 'territory'")
    draft = create_version(db, "Move one county", "county", user=USER, copy_from=active)
    unit, source, target = _adjacent_move(db, draft)
    _level, before, _locked = version_plan(db, draft, user=USER)
    book = load_book(db, "county", user=USER)
    after = before.copy()
    after[unit] = target
    shown = preview(book, before, after, territories)
    moved_accounts = int((book["unit"] == unit).sum())
    assert shown.loc[source, ("accounts", "change")] == -moved_accounts
    assert shown.loc[target, ("accounts", "change")] == moved_accounts
    saved = move_units(db, draft, {unit: target}, user=USER)
    assert saved[unit] == target
    assert publish(db, draft, user=USER) == moved_accounts
    produced = _kpis_from_accounts(db, territories)
    expected = shown.xs("after", axis=1, level=1)
    pd.testing.assert_frame_equal(produced, expected, check_dtype=False, check_names=False)
    statuses = versions(db, user=USER).set_index("version_id")["status"]
    assert statuses[active] == "archived" and statuses[draft] == "active"


def test_locked_unit_and_locked_territory_refuse_moves(planned) -> None:
    _settings, conns = planned
    db = conns.app
    draft = create_version(db, "Locks", "county", user=USER, copy_from=active_version(db, user=USER))
    unit, _source, target = _adjacent_move(db, draft)
    assert lock_units(db, draft, [unit], True, user=USER) == 1
    with pytest.raises(TerritoryError, match="locked"):
        move_units(db, draft, {unit: target}, user=USER)
    lock_units(db, draft, [unit], False, user=USER)
    lock_territory(db, target, True, user=USER)
    with pytest.raises(TerritoryError, match=f"Territory {target} is locked"):
        move_units(db, draft, {unit: target}, user=USER)
    lock_territory(db, target, False, user=USER)
    assert move_units(db, draft, {unit: target}, user=USER)[unit] == target


def test_published_versions_cannot_change(planned) -> None:
    _settings, conns = planned
    db = conns.app
    active = active_version(db, user=USER)
    unit, _source, target = _adjacent_move(db, active)
    with pytest.raises(TerritoryError, match="only a draft can change"):
        move_units(db, active, {unit: target}, user=USER)


def test_override_survives_a_new_plan_and_clears_back_to_the_unit(planned) -> None:
    _settings, conns = planned
    db = conns.app
    book = load_book(db, "county", user=USER)
    account = book[book["unit"].notna()].iloc[0]
    other = int(
        next(
            t
            for t in territory_table(db, user=USER).query("kind == 'territory'").index
            if t != account["territory_id"]
        )
    )
    set_override(db, account["external_id"], other, user=USER)
    draft = create_version(db, "Reshuffle", "county", user=USER, copy_from=active_version(db, user=USER))
    _level, plan, _locked = version_plan(db, draft, user=USER)
    save_plan(db, draft, plan, user=USER)
    publish(db, draft, user=USER)
    after = load_book(db, "county", user=USER).set_index("external_id").loc[account["external_id"]]
    assert after["territory_id"] == other and bool(after["override"])
    ruled = plan_accounts(load_book(db, "county", user=USER), plan).set_index("external_id")
    assert ruled.loc[account["external_id"], "rule"] == "override"
    set_override(db, account["external_id"], None, user=USER)
    cleared = load_book(db, "county", user=USER).set_index("external_id").loc[account["external_id"]]
    assert not cleared["override"] and cleared["territory_id"] == plan[account["unit"]]


def test_gaps_list_units_with_accounts_but_no_territory(planned) -> None:
    _settings, conns = planned
    db = conns.app
    _level, plan, _locked = version_plan(db, active_version(db, user=USER), user=USER)
    book = load_book(db, "county", user=USER)
    busiest = book.groupby("unit").size().idxmax()
    found = gaps(book, plan.drop(busiest))
    assert found.iloc[0]["unit"] == busiest
    assert found.iloc[0]["accounts"] == int((book["unit"] == busiest).sum())
    assert gaps(book, plan).empty


def test_cli_align_lists_every_unit_is_deterministic_and_saves_a_draft(planned, environment) -> None:
    settings, conns = planned
    environment(settings)
    k = len(territory_table(conns.app, user=USER).query("kind == 'territory'"))
    args = ["territories", "align", "--units", "county", "--k", str(k), "--balance", "accounts,revenue"]
    first = CliRunner().invoke(app, [*args, "--seed", "3"])
    again = CliRunner().invoke(app, [*args, "--seed", "3", "--save", "Balanced"])
    assert first.exit_code == again.exit_code == 0, first.output
    table = pd.read_csv(pd.io.common.StringIO(first.stdout), dtype={"code": str})
    with conns.app.transaction(user=USER) as cur:
        cur.execute("SELECT count(*) FROM regions WHERE level = 'county' AND NOT ST_IsEmpty(geom)")
        assert len(table) == cur.fetchone()[0]
    assert table["territory"].between(0, k - 1).all() and table["territory"].nunique() == k
    assert first.stdout == again.stdout
    assert "deviation_accounts" in first.stderr and "contiguous" in first.stderr
    draft = versions(conns.app, user=USER).iloc[0]
    assert draft["name"] == "Balanced" and draft["status"] == "draft" and draft["units"] == len(table)
    bad = CliRunner().invoke(app, ["territories", "align", "--units", "h3:12", "--k", "3"])
    assert bad.exit_code == 1 and "h3:R with R from 5 to 9" in bad.stderr


def test_a_drawn_shape_claims_its_accounts_shows_as_overlap_and_wins_on_publish(planned) -> None:
    _settings, conns = planned
    db = conns.app
    draft = create_version(db, "Downtown", "county", user=USER, copy_from=active_version(db, user=USER))
    _level, plan, _locked = version_plan(db, draft, user=USER)
    book = load_book(db, "county", user=USER)
    with db.transaction(user=USER) as cur:
        cur.execute(
            "SELECT account_id, ST_X(geom), ST_Y(geom), county_fips FROM accounts WHERE geom IS NOT NULL"
            " ORDER BY account_id LIMIT 1"
        )
        first, lon, lat, county = cur.fetchone()
    owner = int(plan[county])
    other = int(next(t for t in plan.unique() if int(t) != owner))
    square = shapely.box(lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05)
    save_shape(db, draft, other, shapely.to_wkb(square, hex=True), user=USER)
    claimed = shapes_of_accounts(db, draft, user=USER)
    assert len(claimed) >= 1 and set(claimed["territory_id"]) == {other}
    found = overlaps(book, claimed, plan).set_index("account_id")["territories"]
    assert found[first] == tuple(sorted((owner, other)))
    assert all(len(t) == 2 for t in found)
    publish(db, draft, user=USER)
    after = load_book(db, "county", user=USER).set_index("account_id")
    assert (after.loc[claimed["account_id"], "territory_id"] == other).all()


def test_cube_by_territory_has_names_and_outlines_of_the_active_plan(planned) -> None:
    settings, conns = planned
    table = answer_cube(conns.app, settings.data_dir, by="territory", measures=["accounts"], user=USER)
    territories = territory_table(conns.app, user=USER).query("kind == 'territory'")
    labels = territories["code"] + " · " + territories["name"]
    expected = {str(t): label for t, label in labels.items()}
    assert dict(zip(table["key"], table["name"], strict=True)) == expected
    assert table.geometry.notna().all() and table.geometry.is_valid.all()
    with conns.app.transaction(user=USER) as cur:
        cur.execute("SELECT count(*) FROM accounts WHERE territory_id IS NOT NULL")
        assert table["accounts"].sum() == cur.fetchone()[0]


def test_routing_the_whole_book_outlasts_the_app_roles_statement_timeout(planned) -> None:
    """At 1M accounts publishing rewrites every account for about 2 min; the app role's limit is 60 s."""
    _settings, conns = planned
    version = active_version(conns.app, user=USER)
    with conns.app.transaction(user=USER) as cur:
        cur.execute("SELECT account_id, territory_id FROM accounts ORDER BY account_id")
        routed = cur.fetchall()
        cur.execute("UPDATE accounts SET territory_id = NULL WHERE NOT territory_override")
        # A limit the whole-book rewrite of this small book exceeds, as 60 s is for a large one.
        cur.execute("SET LOCAL statement_timeout = '10ms'")
        changed = assign_territories(cur, version=version)
        cur.execute("SHOW statement_timeout")
        assert cur.fetchone()[0] == BOOK_WRITE_TIMEOUT
        cur.execute("SELECT account_id, territory_id FROM accounts ORDER BY account_id")
        assert cur.fetchall() == routed
    assert changed == sum(territory is not None for _account, territory in routed) > 500
