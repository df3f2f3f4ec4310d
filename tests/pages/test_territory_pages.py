"""The territory pages through Streamlit's AppTest against a real database."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from support.app import app_as
from support.users import ADMIN

from geo.ingest.whole_book import load_demo_book
from territories.model import active_version, load_book, territory_table, version_plan, versions

DESIGN = "pages/territory_design.py"
PERFORMANCE = "pages/territory_performance.py"
USER = "manager@test"


def _run(page: str, state: dict | None = None) -> AppTest:
    return app_as(ADMIN, page, state=state, timeout=180)


def _no_failure(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_without_a_plan_the_design_page_creates_the_starter_plan(settings, connections, environment) -> None:
    load_demo_book(connections.owner, settings.data_dir, accounts=600, seed=5)
    environment(settings)
    at = _run(PERFORMANCE)
    _no_failure(at)
    assert "No active territory plan" in at.info[0].value
    at = _run(DESIGN)
    _no_failure(at)
    _button(at, "Create a starter plan").click().run()
    _no_failure(at)
    assert active_version(connections.app, user=USER) is not None
    table = next(d.value for d in at.dataframe if "Territory" in d.value.columns)
    with connections.app.transaction(user=USER) as cur:
        cur.execute("SELECT count(*) FROM reps")
        assert len(table) == cur.fetchone()[0]
    assert table["Accounts"].sum() == 600
    assert list(table.columns) == ["Code", "Territory", "Rep", "Accounts", "Revenue, 12 months", "Locked"]


def test_clicked_unit_shows_its_what_if_and_a_draft_saves_the_move(planned, environment) -> None:
    settings, conns = planned
    environment(settings)
    db = conns.app
    active = active_version(db, user=USER)
    book = load_book(db, "county", user=USER)
    unit = book.groupby("unit").size().idxmax()
    at = _run(DESIGN, {"design_unit": unit})
    _no_failure(at)
    what_if = next(d.value for d in at.dataframe if "Accounts" in d.value.index)
    moved = int((book["unit"] == unit).sum())
    assert list(what_if.columns.get_level_values(1)[:3]) == ["before", "after", "change"]
    changes = what_if.xs("change", axis=1, level=1).loc["Accounts"]
    assert sorted(int(change.replace(",", "")) for change in changes) == [-moved, moved]
    assert what_if.loc["Revenue, 12 months"].str.match(r"-?\$").all()
    assert any("New draft" in i.value for i in at.info)
    _button(at, "New draft").click().run()
    _no_failure(at)
    draft = int(versions(db, user=USER).iloc[0]["version_id"])
    assert draft != active and at.session_state["plan_pick"] == draft
    target = at.selectbox(key=f"target-{unit}").value
    _button(at, "Save move").click().run()
    _no_failure(at)
    _level, plan, _locked = version_plan(db, draft, user=USER)
    assert plan[unit] == target
    at.run()
    diff = next(d.value for d in at.dataframe if "Units gained" in d.value.columns)
    assert list(diff.columns) == [
        "Territory",
        "Units gained",
        "Units lost",
        "Accounts gained",
        "Accounts lost",
        "Revenue gained",
        "Revenue lost",
    ]
    assert diff["Accounts gained"].sum() == moved
    _button(at, "Publish").click().run()
    _no_failure(at)
    assert active_version(db, user=USER) == draft
    changed = next(d.value for d in _run(DESIGN).dataframe if "Territory" in d.value.columns)
    assert changed["Accounts"].sum() == len(book[book["unit"].notna()])


def test_the_design_address_holds_a_draft_and_a_link_opens_it(planned, environment) -> None:
    settings, conns = planned
    environment(settings)
    active = active_version(conns.app, user=USER)
    at = _run(DESIGN)
    assert "plan" not in at.query_params
    _button(at, "New draft").click().run()
    _no_failure(at)
    draft = at.session_state["plan_pick"]
    assert draft != active and at.query_params["plan"] == str(draft)
    linked = app_as(ADMIN, DESIGN, query={"plan": str(draft)}, timeout=180)
    _no_failure(linked)
    assert linked.selectbox(key="plan_pick").value == draft
    unknown = app_as(ADMIN, DESIGN, query={"plan": "9999"}, timeout=180)
    _no_failure(unknown)
    assert any("'9999'" in w.value and str(draft) in w.value for w in unknown.warning)
    assert unknown.selectbox(key="plan_pick").value == active
    assert "plan" not in unknown.query_params


def test_the_last_saved_move_can_be_undone(planned, environment) -> None:
    settings, conns = planned
    environment(settings)
    db = conns.app
    book = load_book(db, "county", user=USER)
    unit = book.groupby("unit").size().idxmax()
    at = _run(DESIGN, {"design_unit": unit})
    _button(at, "New draft").click().run()
    draft = int(versions(db, user=USER).iloc[0]["version_id"])
    _level, before, _locked = version_plan(db, draft, user=USER)
    assert not [b for b in at.button if b.label.startswith("Undo")]
    target = at.selectbox(key=f"target-{unit}").value
    _button(at, "Save move").click().run()
    _no_failure(at)
    assert version_plan(db, draft, user=USER)[1][unit] == target
    undo = at.button(key="undo_move")
    assert undo.label.startswith("Undo: move ") and " back to " in undo.label
    undo.click().run()
    _no_failure(at)
    _level, after, _locked = version_plan(db, draft, user=USER)
    assert after[unit] == before[unit]
    assert after.equals(before)
    assert not [b for b in at.button if b.label.startswith("Undo")]


def test_alignment_tab_runs_reports_and_saves_a_draft(planned, environment) -> None:
    settings, conns = planned
    environment(settings)
    at = _run(DESIGN)
    _no_failure(at)
    at.number_input[0].set_value(2)
    next(b for b in at.button if b.label == "Run alignment").click().run()
    _no_failure(at)
    report = next(d.value for d in at.dataframe if "Accounts: deviation %" in d.value.columns)
    assert not any("_" in column for column in report.columns), list(report.columns)
    territories = territory_table(conns.app, user=USER).query("kind == 'territory'")
    assert len(report) == len(territories) and report["Contiguous"].all()
    assert set(report["Territory"]) == set(territories["code"])
    assert report["Accounts"].sum() == len(load_book(conns.app, "county", user=USER).dropna(subset=["unit"]))
    _button(at, "Save as draft").click().run()
    _no_failure(at)
    newest = versions(conns.app, user=USER).iloc[0]
    assert newest["name"] == "Aligned plan" and newest["status"] == "draft"


def test_alignment_on_workload_says_how_travel_was_measured(planned, environment) -> None:
    settings, _conns = planned
    environment(settings)
    at = _run(DESIGN)
    at.multiselect[0].set_value(["workload"])
    next(b for b in at.button if b.label == "Run alignment").click().run()
    _no_failure(at)
    workload = "Workload, minutes (visit + travel time)"
    report = next(d.value for d in at.dataframe if workload in d.value.columns)
    assert f"{workload}: deviation %" in report.columns
    assert (report[workload] % 1 == 0).all(), "workload not in whole minutes"
    note = next(c.value for c in at.caption if c.value.startswith("deviation:"))
    assert "Workload travel: by road in 0 of" in note and "estimate (great-circle distance × 1.3" in note


@pytest.mark.parametrize("measure", ["accounts", "revenue", "quota_attainment", "penetration"])
def test_performance_page_table_and_reps_add_up(planned, environment, measure: str) -> None:
    settings, conns = planned
    environment(settings)
    at = _run(PERFORMANCE)
    _no_failure(at)
    at.selectbox(key="kpi").set_value(measure).run()
    _no_failure(at)
    table = next(d.value for d in at.dataframe if "Territory" in d.value.columns)
    reps = next(d.value for d in at.dataframe if "Territories" in d.value.columns)
    with conns.app.transaction(user=USER) as cur:
        cur.execute("SELECT count(*) FROM accounts WHERE territory_id IS NOT NULL")
        assert table["Accounts"].sum() == reps["Accounts"].sum() == cur.fetchone()[0]
    for shown in (table, reps):
        assert not any("_" in column for column in shown.columns), list(shown.columns)
        assert not shown.isna().any().any(), shown.head(3)
    assert list(reps.columns[:2]) == ["Rep", "Accounts"]
    labels = {m.label for m in at.metric}
    assert {"Balance index (accounts)", "Balance index (revenue)"} <= labels


def test_performance_page_keeps_the_table_on_the_clicked_territory(planned, environment) -> None:
    settings, conns = planned
    environment(settings)
    territory = int(territory_table(conns.app, user=USER).query("kind == 'territory'").index[0])
    at = _run(PERFORMANCE, {"perf_territory": str(territory)})
    _no_failure(at)
    table = next(d.value for d in at.dataframe if "Territory" in d.value.columns)
    assert len(table) == 1
    _button(at, "Show all territories").click().run()
    table = next(d.value for d in at.dataframe if "Territory" in d.value.columns)
    assert len(table) > 1


def test_campaigns_page_names_the_territories_it_offers_as_targets(planned, environment) -> None:
    settings, conns = planned
    environment(settings)
    at = _run("pages/campaigns.py")
    _no_failure(at)
    territories = territory_table(conns.app, user=USER).query("kind == 'territory'")
    expected = sorted(territories["code"] + " · " + territories["name"])
    assert sorted(at.multiselect(key="territories").options) == expected


def test_sales_by_region_maps_the_territories_of_the_active_plan(planned, environment) -> None:
    settings, conns = planned
    environment(settings)
    at = _run("pages/region_map.py")
    at.selectbox(key="level").set_value("territory").run()
    _no_failure(at)
    table = next(d.value for d in at.dataframe if "Accounts" in d.value.columns)
    territories = territory_table(conns.app, user=USER).query("kind == 'territory'")
    assert sorted(table.iloc[:, 0]) == sorted(territories["code"] + " · " + territories["name"])
    with conns.app.transaction(user=USER) as cur:
        cur.execute("SELECT count(*) FROM accounts WHERE territory_id IS NOT NULL")
        assert table["Accounts"].sum() == cur.fetchone()[0]
