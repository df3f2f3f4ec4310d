"""The campaigns and nearby pages through Streamlit's AppTest against the demo book."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest
from support.app import address, app_as
from support.users import ADMIN

from geo.config import Settings
from geo.field.accounts import load_facts
from geo.store.bootstrap import prepare_database
from geo.store.region_facts import read_facts

CAMPAIGNS = "pages/campaigns.py"
NEARBY = "pages/nearby.py"


@pytest.fixture
def demo_app(demo_settings: Settings, environment) -> None:
    environment(demo_settings)


def _run(page: str) -> AppTest:
    return app_as(ADMIN, page)


def _no_failure(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _shown(markdown: str) -> str:
    """Markdown as the page shows it: backslash escapes (``markdown_text``) removed."""
    return re.sub(r"\\(.)", r"\1", markdown)


def test_campaign_from_regions_shows_a_waterfall_that_adds_up(demo_app) -> None:
    at = _run(CAMPAIGNS)
    _no_failure(at)
    assert "Draw a shape or pick regions" in at.info[0].value
    at.multiselect(key="states").set_value(["06", "17"]).run()
    at.multiselect(key="f_status").set_value(["customer"]).run()
    _no_failure(at)
    waterfall = next(d.value for d in at.dataframe if "Stage" in d.value.columns)
    matched = waterfall.loc[waterfall["Stage"] == "Matched the geography", "Accounts"].item()
    final = waterfall.loc[waterfall["Stage"] == "Final audience", "Accounts"].item()
    assert matched - waterfall.loc[waterfall["Stage"] != "Final audience", "Removed"].sum() == final > 0
    assert next(m for m in at.metric if m.label == "Final audience").value == f"{final:,}"
    by_state = next(d.value for d in at.dataframe if "Audience" in d.value.columns)
    assert list(by_state.columns) == ["State", "Audience"]
    assert by_state["Audience"].sum() == final and len(by_state) == 2


def test_campaign_narrowed_to_counties_by_their_market(demo_settings: Settings, demo_app) -> None:
    connections = prepare_database(demo_settings)
    try:
        counties = read_facts(connections.app, "county", user="t")
        accounts = load_facts(connections.app, user="t").accounts
    finally:
        connections.close()
    rich = counties.index[(counties["median_household_income"] >= 70_000) & (counties["metro"] == 1)]
    in_california = accounts["county_fips"].isin(rich) & accounts["state_fips"].eq("06")
    at = _run(CAMPAIGNS)
    at.multiselect(key="states").set_value(["06"]).run()
    at.toggle(key="market").set_value(True).run()
    at.selectbox(key="market-fact").set_value("median_household_income").run()
    at.selectbox(key="market-comparison").set_value(">=").run()
    at.number_input(key="market-value").set_value(70_000.0).run()
    at.checkbox(key="market-metro").check().run()
    _no_failure(at)
    waterfall = next(d.value for d in at.dataframe if "Stage" in d.value.columns)
    matched = waterfall.loc[waterfall["Stage"] == "Matched the geography", "Accounts"].item()
    assert matched == int(in_california.sum()) > 0
    at.number_input(key="market-value").set_value(10_000_000.0).run()
    assert any("No county meets" in e.value for e in at.error)


def test_campaign_from_branch_drive_times_is_their_reach(demo_app) -> None:
    from geo.roads.estimate import estimated_reach_m

    at = _run(CAMPAIGNS)
    at.multiselect(key="branches").set_value([1]).run()
    audiences = {}
    reach_km = estimated_reach_m(40 * 60) / 1000
    for name, (ring, minutes) in {
        "inner": (0.97 * reach_km, 0),
        "drive": (0.0, 40),
        "outer": (1.02 * reach_km, 0),
    }.items():
        at.number_input(key="drive_minutes").set_value(minutes).run()
        at.number_input(key="ring").set_value(round(ring, 3)).run()
        _no_failure(at)
        audiences[name] = int(
            next(m for m in at.metric if m.label == "Final audience").value.replace(",", "")
        )
        if minutes:
            assert any("estimate (no road network loaded)" in _shown(c.value) for c in at.caption)
    assert 0 < audiences["inner"] <= audiences["drive"] <= audiences["outer"]


def test_nearby_page_lists_the_nearest_from_a_typed_zip(demo_app) -> None:
    at = _run(NEARBY)
    _no_failure(at)
    at.text_input(key="where").set_value("60601").run()
    _no_failure(at)
    listed = next(d.value for d in at.dataframe if "km" in d.value.columns)
    assert len(listed) == 25 and listed["km"].is_monotonic_increasing
    at.multiselect(key="route_pick").set_value(list(listed["ID"].head(5))).run()
    _no_failure(at)
    route = next(d.value for d in at.dataframe if "Total km" in d.value.columns)
    assert route["#"].tolist() == [1, 2, 3, 4, 5]
    assert route["Total min"].is_monotonic_increasing and (route["Drive min"] >= 0).all()
    assert any(
        _shown(c.value).startswith("Ordered on drive times — estimate (no road network loaded): great-circle")
        for c in at.caption
    )


def test_nearby_ranks_by_drive_time_on_request(demo_app) -> None:
    at = _run(NEARBY)
    at.text_input(key="where").set_value("60601").run()
    at.radio(key="nearest_by").set_value("drive").run()
    _no_failure(at)
    listed = next(d.value for d in at.dataframe if "Drive min" in d.value.columns)
    assert len(listed) == 25 and listed["Drive min"].is_monotonic_increasing
    assert any(
        _shown(c.value).startswith("Ranked by drive time — estimate (no road network loaded)")
        for c in at.caption
    )


def test_nearby_search_goes_to_the_account_picked(demo_settings: Settings, demo_app) -> None:
    conns = prepare_database(demo_settings)
    with conns.owner.transaction(user=ADMIN.username) as cur:
        cur.execute(
            "SELECT external_id, name FROM accounts WHERE geom IS NOT NULL ORDER BY account_id LIMIT 1"
        )
        external_id, name = cur.fetchone()
    conns.close()
    at = _run(NEARBY)
    at.text_input(key="find").set_value(external_id.lower()).run()
    _no_failure(at)
    at.selectbox(key="find_pick").set_value(external_id).run()
    _no_failure(at)
    listed = next(d.value for d in at.dataframe if "km" in d.value.columns)
    assert listed["ID"].iloc[0] == external_id and listed["km"].iloc[0] == 0
    assert any(f"(account {name})" in c.value.replace("\\", "") for c in at.caption)
    at.text_input(key="find").set_value("no such account zz").run()
    assert "No account you can see has that name" in at.info[0].value


def test_a_tapped_account_opens_with_add_to_route_and_log_a_visit(demo_app) -> None:
    at = _run(NEARBY)
    at.text_input(key="where").set_value("60601").run()
    listed = next(d.value for d in at.dataframe if "km" in d.value.columns)
    tapped = listed["ID"].iloc[2]
    at.session_state["nearby_tapped"] = tapped
    at.run()
    _no_failure(at)
    assert any(f"({tapped})" in m.value.replace("\\", "") and "last visit" in m.value for m in at.markdown)
    next(b for b in at.button if b.label == "Add to route").click().run()
    _no_failure(at)
    assert at.multiselect(key="route_pick").value == [tapped]
    route = next(d.value for d in at.dataframe if "Total km" in d.value.columns)
    assert len(route) == 1
    next(b for b in at.button if b.label == "Log a visit").click().run()
    assert at.selectbox(key="visit_account").value == tapped
    next(b for b in at.button if b.label == "Close").click().run()
    assert not any(b.label == "Add to route" for b in at.button)


def test_an_accounts_history_reads_moments_money_and_dashes(demo_settings: Settings, demo_app) -> None:
    """Regression: the history showed raw headers and "None" for the amount of a visit."""
    at = _run(NEARBY)
    at.text_input(key="where").set_value("60601").run()
    listed = list(next(d.value for d in at.dataframe if "km" in d.value.columns)["ID"])
    conns = prepare_database(demo_settings)
    with conns.app.transaction(user=ADMIN.username) as cur:
        cur.execute(
            "SELECT a.external_id FROM accounts a WHERE a.external_id = ANY(%s)"
            " AND EXISTS (SELECT 1 FROM orders o WHERE o.account_id = a.account_id)"
            " AND EXISTS (SELECT 1 FROM interactions i WHERE i.account_id = a.account_id) LIMIT 1",
            (listed,),
        )
        [(busy,)] = cur.fetchall()
    conns.close()
    at.selectbox(key="visit_account").set_value(busy).run()
    _no_failure(at)
    history = next(d.value for d in at.dataframe if "When" in d.value.columns)
    assert list(history.columns) == ["When", "What", "Detail", "Amount"]
    assert history["When"].str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}").all()
    assert history["Amount"].str.fullmatch(r"\$[\d,]+|—").all(), history["Amount"].tolist()
    assert {"$", "—"} == {amount[0] for amount in history["Amount"]}


def test_nearby_page_explains_a_position_it_cannot_place(demo_app) -> None:
    at = _run(NEARBY)
    at.text_input(key="where").set_value("Atlantis").run()
    assert not at.exception
    assert "Cannot place" in at.error[0].value


def test_campaign_from_a_trade_area_ring_is_saved_with_its_audience(demo_app) -> None:
    at = _run(CAMPAIGNS)
    at.multiselect(key="branches").set_value([1]).run()
    at.number_input(key="ring").set_value(40.0).run()
    _no_failure(at)
    final = int(next(m for m in at.metric if m.label == "Final audience").value.replace(",", ""))
    assert final > 0
    next(t for t in at.text_input if t.label == "Campaign name").set_value("Ring test")
    next(b for b in at.button if b.label == "Save campaign").click().run()
    _no_failure(at)
    assert any(f"with {final:,} members" in s.value for s in at.success)
    saved = next(d.value for d in at.dataframe if "Members" in d.value.columns)
    assert list(saved.columns) == ["Name", "Members", "Responses", "Conversions", "Saved by", "Saved"]
    assert saved.loc[saved["Name"] == "Ring test", "Members"].item() == final
    assert saved["Saved"].str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}").all()


def test_campaign_responses_read_as_money_and_rates_with_a_dash_for_no_cost(
    demo_settings: Settings, demo_app
) -> None:
    """Regression: a campaign saved at no cost showed "None" for its return on cost, headers were raw."""
    at = _run(CAMPAIGNS)
    at.multiselect(key="states").set_value(["17"]).run()
    next(t for t in at.text_input if t.label == "Campaign name").set_value("Response test")
    next(b for b in at.button if b.label == "Save campaign").click().run()
    _no_failure(at)
    conns = prepare_database(demo_settings)
    with conns.app.transaction(user=ADMIN.username) as cur:
        cur.execute(
            "SELECT a.external_id FROM campaign_members m JOIN campaigns c USING (campaign_id)"
            " JOIN accounts a USING (account_id) WHERE c.name = 'Response test' ORDER BY 1 LIMIT 1"
        )
        [(member,)] = cur.fetchall()
    conns.close()
    at.selectbox(key="saved_pick").set_value("Response test").run()
    next(t for t in at.text_input if t.label == "Account ID (external id)").set_value(member)
    next(n for n in at.number_input if n.label == "Revenue").set_value(1250.0)
    next(b for b in at.button if b.label == "Mark").click().run()
    _no_failure(at)
    table = next(d.value for d in at.dataframe if "Response rate" in d.value.columns)
    assert list(table.columns) == [
        "State",
        "Members",
        "Responses",
        "Conversions",
        "Revenue",
        "Cost",
        "Response rate",
        "Return on cost",
    ]
    assert table.loc[0, "State"] == "Illinois" and table.loc[0, "Responses"] == 1
    assert table.loc[0, "Return on cost"] == "—"


def test_picking_route_stops_plans_the_route_without_searching_again(demo_app) -> None:
    """A pick (or a tap's "Add to route") reruns the page with the nearest search kept from before."""
    at = _run(NEARBY)
    at.text_input(key="where").set_value("60601").run()
    searched = at.session_state["nearby_found"]
    listed = next(d.value for d in at.dataframe if "km" in d.value.columns)
    for stops in (1, 3):
        at.multiselect(key="route_pick").set_value(list(listed["ID"].head(stops))).run()
        _no_failure(at)
        route = next(d.value for d in at.dataframe if "Total km" in d.value.columns)
        assert len(route) == stops
        assert at.session_state["nearby_found"] is searched
    at.number_input(key="k").set_value(10).run()
    _no_failure(at)
    assert at.session_state["nearby_found"] is not searched
    assert len(next(d.value for d in at.dataframe if "km" in d.value.columns)) == 10


def test_logging_a_visit_searches_again(demo_app) -> None:
    """The kept search follows the book: a logged visit shows in the list's last visit on the next run."""
    at = _run(NEARBY)
    at.text_input(key="where").set_value("60601").run()
    searched = at.session_state["nearby_found"]
    listed = next(d.value for d in at.dataframe if "km" in d.value.columns)
    never = listed.loc[listed["Last visit"] == "never", "ID"].iloc[0]
    at.selectbox(key="visit_account").set_value(never)
    next(b for b in at.button if b.label == "Log visit").click().run()
    _no_failure(at)
    at.run()
    assert at.session_state["nearby_found"] is not searched
    listed = next(d.value for d in at.dataframe if "km" in d.value.columns)
    assert listed.loc[listed["ID"] == never, "Last visit"].item() != "never"


def test_the_nearby_address_holds_the_position_and_the_filters(demo_app) -> None:
    at = _run(NEARBY)
    at.text_input(key="where").set_value("60601").run()
    at.number_input(key="k").set_value(10).run()
    at.multiselect(key="statuses").set_value(["customer", "prospect"]).run()
    at.checkbox(key="open_orders").check().run()
    at.radio(key="nearest_by").set_value("drive").run()
    _no_failure(at)
    assert address(at) == {
        "where": ["60601"],
        "k": ["10"],
        "status": ["customer", "prospect"],
        "open": ["1"],
        "by": ["drive"],
    }
    linked = app_as(ADMIN, NEARBY, query={**at.query_params, "stale": "often", "by": "helicopter"})
    _no_failure(linked)
    assert linked.text_input(key="where").value == "60601"
    assert linked.number_input(key="k").value == 10
    assert linked.multiselect(key="statuses").value == ["customer", "prospect"]
    assert linked.checkbox(key="open_orders").value
    warned = [_shown(w.value) for w in linked.warning]
    assert any("stale='often'" in w and "whole number from 0 to 3650" in w for w in warned), warned
    assert any("'helicopter'" in w and "distance, drive" in w for w in warned), warned
    assert linked.radio(key="nearest_by").value == "distance"
    assert linked.number_input(key="stale").value == 0
    listed = next(d.value for d in linked.dataframe if "km" in d.value.columns)
    assert len(listed) <= 10 and set(listed["Status"]) <= {"customer", "prospect"}
    assert "by" not in linked.query_params and "stale" not in linked.query_params


def test_a_position_moved_to_is_in_the_address_as_coordinates(demo_settings: Settings, demo_app) -> None:
    conns = prepare_database(demo_settings)
    with conns.owner.transaction(user=ADMIN.username) as cur:
        cur.execute("SELECT external_id FROM accounts WHERE geom IS NOT NULL ORDER BY account_id LIMIT 1")
        (external_id,) = cur.fetchone()
    conns.close()
    at = _run(NEARBY)
    at.text_input(key="find").set_value(external_id).run()
    at.selectbox(key="find_pick").set_value(external_id).run()
    lon, lat, _how = at.session_state["position"]
    assert address(at)["where"] == [f"{lat:.5f}, {lon:.5f}"]
    linked = app_as(ADMIN, NEARBY, query=at.query_params)
    _no_failure(linked)
    listed = next(d.value for d in linked.dataframe if "km" in d.value.columns)
    assert listed["ID"].iloc[0] == external_id
