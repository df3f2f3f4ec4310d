"""Plans are made on the whole book: only admins align, change and publish them (page, model, database)."""

from __future__ import annotations

import psycopg2
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from geo.config import PROJECT_DIR
from geo.errors import AccessDenied
from geo.ingest.whole_book import load_demo_book
from territories.book_alignment import propose_alignment
from territories.model import (
    active_version,
    create_version,
    load_book,
    lock_territory,
    lock_units,
    may_plan,
    move_units,
    publish,
    save_draft,
    territory_table,
    version_plan,
    versions,
)
from territories.starter import starter_plan

APP = str(PROJECT_DIR / "app.py")
DESIGN = "pages/territory_design.py"
ADMIN = "manager@test"
"""An admin of the test databases (see ``conftest.TEST_ADMINS``)."""
MANAGER = ("manager", "manager-demo")
"""The demo West manager (``geo.store.users.DEMO_USERS``)."""
EDIT_BUTTONS = {
    "New draft",
    "Publish",
    "Run alignment",
    "Save as draft",
    "Save move",
    "Lock unit",
    "Unlock unit",
    "Lock territory",
    "Unlock territory",
    "Create a starter plan",
}


def _draft_with_a_move(db) -> tuple[int, str, int]:
    """A draft (made by an admin) in which the busiest unit moved to another territory."""
    draft = create_version(db, "Draft", "county", user=ADMIN, copy_from=active_version(db, user=ADMIN))
    _level, plan, _locked = version_plan(db, draft, user=ADMIN)
    book = load_book(db, "county", user=ADMIN)
    unit = next(u for u in book.groupby("unit").size().sort_values(ascending=False).index if u in plan.index)
    target = int(next(t for t in plan.unique() if int(t) != int(plan[unit])))
    move_units(db, draft, {unit: target}, user=ADMIN)
    return draft, unit, target


def _plan_state(conns) -> tuple:
    with conns.owner.transaction(user=ADMIN) as cur:
        cur.execute("SELECT t::text FROM territory_versions t ORDER BY 1")
        plans = cur.fetchall()
        cur.execute("SELECT t::text FROM territory_units t ORDER BY 1")
        units = cur.fetchall()
        cur.execute("SELECT account_id, territory_id FROM accounts ORDER BY 1")
        accounts = cur.fetchall()
        cur.execute("SELECT t::text FROM territories t ORDER BY 1")
        territories = cur.fetchall()
    return plans, units, accounts, territories


@pytest.mark.parametrize("user", ["manager", "marketer", "rep"])
def test_only_admins_may_plan_and_the_model_refuses_everyone_else(planned, user: str) -> None:
    settings, conns = planned
    db = conns.app
    draft, unit, target = _draft_with_a_move(db)
    level, plan, _locked = version_plan(db, draft, user=ADMIN)
    territory = int(plan[unit])
    before = _plan_state(conns)
    assert may_plan(db, user=ADMIN) and not may_plan(db, user=user)
    refused = [
        lambda: publish(db, draft, user=user),
        lambda: move_units(db, draft, {unit: territory}, user=user),
        lambda: lock_units(db, draft, [unit], True, user=user),
        lambda: lock_territory(db, target, True, user=user),
        lambda: create_version(db, "Mine", level, user=user, copy_from=draft),
        lambda: save_draft(db, "Mine", level, plan, user=user),
        lambda: propose_alignment(db, settings.data_dir, level=level, k=3, measures=["accounts"], user=user),
    ]
    for action in refused:
        with pytest.raises(AccessDenied, match="Only an admin may align, change or publish"):
            action()
    assert _plan_state(conns) == before


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE territory_versions SET status = 'archived' WHERE status = 'active'",
        "UPDATE territory_units SET territory_id = territory_id",
        "DELETE FROM territory_units",
        "INSERT INTO territory_versions (name) VALUES ('mine')",
        "UPDATE territories SET locked = true",
    ],
)
def test_the_database_refuses_plan_changes_from_a_manager(planned, statement: str) -> None:
    _settings, conns = planned
    before = _plan_state(conns)
    refusal = "Only an admin may change territory plans"
    with (
        pytest.raises(psycopg2.errors.InsufficientPrivilege, match=refusal),
        conns.app.transaction(user=MANAGER[0]) as cur,
    ):
        cur.execute(statement)
    assert _plan_state(conns) == before


def test_the_database_lets_an_admin_change_plans(planned) -> None:
    _settings, conns = planned
    with conns.app.transaction(user=ADMIN) as cur:
        cur.execute("UPDATE territories SET locked = true")
        assert cur.rowcount == len(territory_table(conns.app, user=ADMIN))


def _signed_in_as_manager(state: dict) -> AppTest:
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.text_input(key="sign_in_user").input(MANAGER[0])
    at.text_input(key="sign_in_password").input(MANAGER[1])
    at.button[0].click()
    at.run()
    assert at.session_state["gcrm_user"].role == "manager"
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(DESIGN)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def test_the_design_page_shows_a_manager_the_plan_read_only(planned, environment) -> None:
    settings, conns = planned
    environment(settings)
    draft, unit, _target = _draft_with_a_move(conns.app)
    before = _plan_state(conns)
    at = _signed_in_as_manager({"plan_pick": draft, "design_unit": unit})
    assert at.session_state["plan_pick"] == draft
    assert not {b.label for b in at.button} & EDIT_BUTTONS
    assert all(s.key != f"target-{unit}" for s in at.selectbox), "a manager is offered a move"
    explained = [i.value for i in at.info if "not change them" in i.value]
    assert explained and "only an admin aligns, edits and publishes plans" in explained[0]
    assert any(unit in m.value for m in at.markdown), "the clicked unit is not described"
    assert _plan_state(conns) == before
    assert versions(conns.app, user=ADMIN).set_index("version_id").loc[draft, "status"] == "draft"


def test_the_design_page_tells_a_manager_that_an_admin_makes_the_first_plan(
    settings, connections, environment
) -> None:
    load_demo_book(connections.owner, settings.data_dir, accounts=200, seed=5)
    environment(settings)
    at = _signed_in_as_manager({})
    assert not {b.label for b in at.button} & EDIT_BUTTONS
    assert any("an admin makes the first one" in i.value for i in at.info)
    with pytest.raises(AccessDenied, match="Only an admin may align, change or publish"):
        starter_plan(connections.app, settings.data_dir, user=MANAGER[0])
    assert versions(connections.app, user=ADMIN).empty
