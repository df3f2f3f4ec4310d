"""One transaction per action: a fault between the steps of an action leaves nothing of it behind.

Faults are raised by the database itself: each test creates a trigger (as the owner) that
raises on a statement late in the action, after its earlier steps have written, then
compares the tables the action touches before and after.
"""

from __future__ import annotations

from types import ModuleType

import psycopg2
import pytest
from psycopg2 import sql

import geo.campaigns.audience
import geo.campaigns.storage
from geo.campaigns.audience import audience
from geo.campaigns.filters import Filters
from geo.campaigns.storage import save_campaign
from geo.campaigns.target import circle_part
from geo.field.accounts import merge_accounts
from geo.ingest.whole_book import load_demo_book
from geo.store.bootstrap import Connections
from geo.store.db import Database
from territories.model import (
    active_version,
    create_version,
    load_book,
    move_units,
    publish,
    save_draft,
    set_override,
    territory_table,
    version_plan,
)
from territories.starter import starter_plan

USER = "manager@test"
"""An admin of the test databases (see ``conftest.TEST_ADMINS``)."""
FAULT = "injected fault"
PLAN_TABLES = ("territories", "territory_versions", "territory_units", "territory_shapes")
HISTORY_TABLES = ("contacts", "orders", "interactions", "campaign_members", "campaign_responses")
CHICAGO = (41.88, -87.63)


def _fail_on(owner: Database, table: str, event: str, *, when: str | None = None) -> None:
    """Make the database raise on ``event`` (INSERT, UPDATE, DELETE) of ``table``.

    Without ``when`` the trigger fires once per statement (after it ran, so the statement
    wrote); with ``when`` (a condition on OLD and NEW) it fires before each matching row.
    """
    with owner.transaction(user=USER) as cur:
        cur.execute(
            "CREATE OR REPLACE FUNCTION test_fault() RETURNS trigger LANGUAGE plpgsql AS"
            f" $$ BEGIN RAISE EXCEPTION '{FAULT}'; END $$"
        )
        if when is None:
            timing = sql.SQL("AFTER {} ON {} FOR EACH STATEMENT").format(
                sql.SQL(event), sql.Identifier(table)
            )
        else:
            timing = sql.SQL("BEFORE {} ON {} FOR EACH ROW WHEN ({})").format(
                sql.SQL(event), sql.Identifier(table), sql.SQL(when)
            )
        cur.execute(
            sql.SQL("CREATE TRIGGER {} {} EXECUTE FUNCTION test_fault()").format(
                sql.Identifier(f"test_fault_{table}"), timing
            )
        )


def _contents(owner: Database, *tables: str) -> dict[str, list[str]]:
    """Every row of each table (as the owner sees it, past row-level security), as text, sorted."""
    found = {}
    with owner.transaction(user=USER) as cur:
        for table in tables:
            cur.execute(sql.SQL("SELECT t::text FROM {} t ORDER BY 1").format(sql.Identifier(table)))
            found[table] = [row for (row,) in cur.fetchall()]
    return found


def _refused(action) -> None:
    with pytest.raises(psycopg2.Error, match=FAULT):
        action()


def _draft_and_move(db: Database) -> tuple[int, str, int]:
    """A draft copy of the active plan, its busiest unit and another territory for it."""
    draft = create_version(db, "Draft", "county", user=USER, copy_from=active_version(db, user=USER))
    _level, plan, _locked = version_plan(db, draft, user=USER)
    book = load_book(db, "county", user=USER)
    unit = next(u for u in book.groupby("unit").size().sort_values(ascending=False).index if u in plan.index)
    target = int(next(t for t in plan.unique() if int(t) != int(plan[unit])))
    return draft, unit, target


def test_a_publication_that_fails_at_its_audit_entry_leaves_plan_and_accounts_as_they_were(planned) -> None:
    _settings, conns = planned
    draft, unit, target = _draft_and_move(conns.app)
    move_units(conns.app, draft, {unit: target}, user=USER)
    before = _contents(conns.owner, "territory_versions", "accounts", "audit_log")
    _fail_on(conns.owner, "audit_log", "INSERT")
    _refused(lambda: publish(conns.app, draft, user=USER))
    assert _contents(conns.owner, "territory_versions", "accounts", "audit_log") == before


def test_a_move_that_fails_while_writing_the_units_keeps_the_draft_as_it_was(planned) -> None:
    _settings, conns = planned
    draft, unit, target = _draft_and_move(conns.app)
    before = _contents(conns.owner, "territory_units")
    _fail_on(conns.owner, "territory_units", "INSERT")
    _refused(lambda: move_units(conns.app, draft, {unit: target}, user=USER))
    assert _contents(conns.owner, "territory_units") == before


def test_an_alignment_saved_as_draft_is_all_or_nothing(planned) -> None:
    _settings, conns = planned
    _level, plan, _locked = version_plan(conns.app, active_version(conns.app, user=USER), user=USER)
    before = _contents(conns.owner, *PLAN_TABLES)
    _fail_on(conns.owner, "territory_units", "INSERT")
    _refused(lambda: save_draft(conns.app, "Aligned plan", "county", plan, user=USER))
    assert _contents(conns.owner, *PLAN_TABLES) == before


def _pinned_account(db: Database) -> tuple[str, int]:
    """An account in a territory, and another territory to pin it to."""
    book = load_book(db, "county", user=USER).dropna(subset=["territory_id"])
    account = book.iloc[0]
    territories = territory_table(db, user=USER).query("kind == 'territory'").index
    return account["external_id"], int(next(t for t in territories if t != account["territory_id"]))


def test_setting_an_override_that_fails_leaves_the_account_as_it_was(planned) -> None:
    _settings, conns = planned
    external_id, other = _pinned_account(conns.app)
    before = _contents(conns.owner, "accounts")
    _fail_on(conns.owner, "accounts", "UPDATE")
    _refused(lambda: set_override(conns.app, external_id, other, user=USER))
    assert _contents(conns.owner, "accounts") == before


def test_clearing_an_override_that_fails_on_its_second_step_keeps_the_pin(planned) -> None:
    _settings, conns = planned
    external_id, other = _pinned_account(conns.app)
    set_override(conns.app, external_id, other, user=USER)
    before = _contents(conns.owner, "accounts")
    _fail_on(conns.owner, "accounts", "UPDATE", when="OLD.territory_id IS DISTINCT FROM NEW.territory_id")
    _refused(lambda: set_override(conns.app, external_id, None, user=USER))
    assert _contents(conns.owner, "accounts") == before


def test_a_campaign_whose_members_cannot_be_stored_is_not_saved(planned) -> None:
    _settings, conns = planned
    parts = [circle_part(*CHICAGO, 300)]
    filters = Filters(min_precision="none")
    before = _contents(conns.owner, "campaigns", "campaign_members")
    _fail_on(conns.owner, "campaign_members", "INSERT")
    _refused(lambda: save_campaign(conns.app, "Chicago", parts, filters, user=USER))
    assert _contents(conns.owner, "campaigns", "campaign_members") == before


def _withdraw_consent_meanwhile(
    monkeypatch: pytest.MonkeyPatch, conns: Connections, module: ModuleType, name: str
) -> list:
    """Wrap a campaigns helper so that, before it runs, another session withdraws one member's consent."""
    real = getattr(module, name)
    withdrawn = []

    def changed_meanwhile(cur, *args, **kwargs):
        if not withdrawn:
            with conns.owner.transaction(user=USER) as other:
                other.execute(
                    "UPDATE accounts SET marketing_consent = false WHERE account_id ="
                    " (SELECT min(account_id) FROM accounts WHERE marketing_consent AND geom IS NOT NULL"
                    " AND ST_DWithin(geom::geography, ST_MakePoint(%s, %s)::geography, 300000))"
                    " RETURNING account_id",
                    (CHICAGO[1], CHICAGO[0]),
                )
                withdrawn.append(other.fetchone()[0])
        return real(cur, *args, **kwargs)

    monkeypatch.setattr(module, name, changed_meanwhile)
    return withdrawn


def test_an_audience_count_and_its_members_come_from_one_snapshot(planned, monkeypatch) -> None:
    _settings, conns = planned
    withdrawn = _withdraw_consent_meanwhile(monkeypatch, conns, geo.campaigns.audience, "copy_out")
    parts, filters = [circle_part(*CHICAGO, 300)], Filters(min_precision="none")
    counts, members = audience(conns.app, parts, filters, user=USER)
    assert withdrawn, "the concurrent change did not run"
    assert counts["count"].iloc[-1] == len(members) > 0
    assert withdrawn[0] in set(members["account_id"])


def test_a_saved_campaign_stores_exactly_the_audience_it_counted(planned, monkeypatch) -> None:
    _settings, conns = planned
    parts, filters = [circle_part(*CHICAGO, 300)], Filters(min_precision="none")
    counted, _members = audience(conns.app, parts, filters, user=USER)
    withdrawn = _withdraw_consent_meanwhile(monkeypatch, conns, geo.campaigns.storage, "_store_members")
    campaign, stored = save_campaign(conns.app, "Chicago", parts, filters, user=USER)
    assert withdrawn, "the concurrent change did not run"
    with conns.owner.transaction(user=USER) as cur:
        cur.execute("SELECT count(*) FROM campaign_members WHERE campaign_id = %s", (campaign,))
        assert cur.fetchone()[0] == stored == counted["count"].iloc[-1]


def _two_accounts_with_history(owner: Database) -> tuple[str, str]:
    with owner.transaction(user=USER) as cur:
        cur.execute(
            "SELECT a.external_id FROM accounts a WHERE EXISTS (SELECT 1 FROM orders o"
            " WHERE o.account_id = a.account_id) AND EXISTS (SELECT 1 FROM contacts c"
            " WHERE c.account_id = a.account_id) ORDER BY a.account_id LIMIT 2"
        )
        keep, drop = (external_id for (external_id,) in cur.fetchall())
    return keep, drop


def test_a_merge_that_fails_at_its_audit_entry_moves_and_deletes_nothing(planned) -> None:
    _settings, conns = planned
    keep, drop = _two_accounts_with_history(conns.owner)
    tables = ("accounts", *HISTORY_TABLES, "audit_log")
    before = _contents(conns.owner, *tables)
    _fail_on(conns.owner, "audit_log", "INSERT")
    _refused(lambda: merge_accounts(conns.app, keep, drop, user=USER))
    assert _contents(conns.owner, *tables) == before


def test_a_starter_plan_that_fails_at_publication_leaves_no_territory_or_plan(
    settings, connections: Connections
) -> None:
    load_demo_book(connections.owner, settings.data_dir, accounts=400, seed=5)
    tables = (*PLAN_TABLES, "accounts", "audit_log")
    before = _contents(connections.owner, *tables)
    _fail_on(connections.owner, "audit_log", "INSERT")
    _refused(lambda: starter_plan(connections.app, settings.data_dir, user=USER))
    assert _contents(connections.owner, *tables) == before
    assert before["territories"] == []


def test_a_demo_book_that_fails_to_replace_the_current_one_keeps_it(
    settings, connections: Connections
) -> None:
    load_demo_book(connections.owner, settings.data_dir, accounts=100, seed=5)
    tables = ("accounts", "reps", "orders", "app_users")
    before = _contents(connections.owner, *tables)
    _fail_on(connections.owner, "app_users", "INSERT")
    _refused(lambda: load_demo_book(connections.owner, settings.data_dir, accounts=120, seed=6, replace=True))
    assert _contents(connections.owner, *tables) == before
