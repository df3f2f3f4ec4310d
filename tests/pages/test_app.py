"""Every page run through Streamlit's AppTest against a real database."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from support.app import address, app_as, signed_in_through_form
from support.users import ADMIN

from geo import clock
from geo.analysis.cube import CUBE_MEASURES
from geo.config import PROJECT_DIR, Settings, load_settings
from geo.field.accounts import branches, data_version, load_facts
from geo.maps.classification import SCHEMES
from geo.places.geodesy import haversine_m
from geo.store.bootstrap import Connections, prepare_database
from geo.store.users import user_scope

APP = str(PROJECT_DIR / "app.py")
MAP_PAGE = "pages/region_map.py"


def _run(page: str | None = None) -> AppTest:
    return app_as(ADMIN, page)


@pytest.fixture
def demo_app(demo_settings: Settings, environment) -> None:
    environment(demo_settings)


def _no_failure(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _shown(markdown: str) -> str:
    """Markdown as the page shows it: backslash escapes (``markdown_text``) removed."""
    return re.sub(r"\\(.)", r"\1", markdown)


def test_home_shows_headline_counts(demo_app) -> None:
    at = _run()
    _no_failure(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accounts"] == "3,000"
    assert (
        int(metrics["Customers"].replace(",", ""))
        + int(metrics["Prospects"].replace(",", ""))
        + int(metrics["Churned"].replace(",", ""))
        == 3_000
    )
    assert metrics["Accounts not on the map"] == "0"
    assert metrics["Revenue, last 12 months"].startswith("$")


def _table(at: AppTest):
    return next(d.value for d in at.dataframe if "Accounts" in d.value.columns)


def test_map_page_by_state_lists_states_by_accounts(demo_app) -> None:
    at = _run(MAP_PAGE)
    _no_failure(at)
    assert at.title[0].value == "Sales by region"
    table = _table(at)
    assert list(table.columns[:2]) == ["State", "Accounts"]
    assert table["Accounts"].is_monotonic_decreasing
    assert table["Accounts"].sum() == 3_000
    assert table.iloc[0]["State"] in {"California", "Texas", "New York"}
    assert [b.label for b in at.get("download_button")] == [
        "Download CSV",
        "Download GeoJSON",
        "Share (GeoJSON, k-anonymous)",
    ]


def test_map_page_drills_state_county_zip_accounts_and_back(demo_app) -> None:
    at = _run(MAP_PAGE)
    at.session_state["focus"] = [("state", "17", "Illinois")]
    at.run()
    _no_failure(at)
    counties = _table(at)
    assert counties.columns[0] == "County"
    assert counties["County"].str.endswith(", Illinois").all()
    assert any("United States › Illinois" in m.value for m in at.markdown)
    at.session_state["focus"] = [("state", "17", "Illinois"), ("county", "17031", "Cook, Illinois")]
    at.run()
    zips = _table(at)
    assert zips.columns[0] == "ZIP" and zips["ZIP"].str.match(r"^60\d{3} ").all()
    first_zip = zips.iloc[0]["ZIP"][:5]
    at.session_state["focus"] = [*at.session_state["focus"], ("zip", first_zip, first_zip)]
    at.run()
    _no_failure(at)
    listed = next(d.value for d in at.dataframe if "Account ID" in d.value.columns)
    assert len(listed) == zips.iloc[0]["Accounts"]
    next(b for b in at.button if b.label == "Up one level").click().run()
    assert _table(at).columns[0] == "ZIP"


def test_map_page_search_drills_to_the_account_picked(demo_settings: Settings, demo_app) -> None:
    conns = prepare_database(demo_settings)
    with conns.owner.transaction(user=ADMIN.username) as cur:
        cur.execute(
            "SELECT external_id, zip FROM accounts WHERE geom IS NOT NULL AND zip IS NOT NULL"
            " AND state_fips = '17' ORDER BY account_id LIMIT 1"
        )
        external_id, zip_code = cur.fetchone()
    conns.close()
    at = _run(MAP_PAGE)
    at.text_input(key="find").set_value(external_id.lower()).run()
    at.selectbox(key="find_pick").set_value(external_id).run()
    _no_failure(at)
    assert [level for level, _key, _name in at.session_state["focus"]] == ["state", "county", "zip"]
    assert at.session_state["focus"][-1][1] == zip_code
    assert any("United States › Illinois › " in m.value for m in at.markdown)
    listed = next(d.value for d in at.dataframe if "Account ID" in d.value.columns)
    assert external_id in set(listed["Account ID"])
    (picked,) = at.session_state[f"zip-table-{zip_code}"]["selection"]["rows"]
    assert listed["Account ID"].iloc[picked] == external_id, "the account found is not the row picked"


def test_map_page_filters_and_period(demo_app) -> None:
    at = _run(MAP_PAGE)
    everyone = _table(at)["Accounts"].sum()
    assert [e.label for e in at.expander] == ["Filters: all accounts"]
    next(m for m in at.multiselect if m.label == "Segment").set_value(["SMB"]).run()
    _no_failure(at)
    assert [e.label for e in at.expander] == ["Filters: SMB"], "the folded filters do not say what is set"
    smb = _table(at)["Accounts"].sum()
    assert 0 < smb < everyone
    at.selectbox(key="period").set_value("2025").run()
    at.selectbox(key="measure").set_value("growth").run()
    _no_failure(at)
    growth = _table(at)
    assert growth.columns[1] == "Revenue growth (%)"
    assert not growth.isna().any().any(), growth[growth.isna().any(axis=1)].head(3)


@pytest.mark.parametrize("level", ["county", "h3_5", "h3_6", "h3_7", "zip", "trade_area"])
def test_map_page_every_level(demo_app, level: str) -> None:
    at = _run(MAP_PAGE)
    at.selectbox(key="level").set_value(level).run()
    _no_failure(at)
    table = _table(at)
    assert table["Accounts"].sum() == 3_000
    if level.startswith("h3_"):
        assert table.iloc[:, 0].str.fullmatch(r"Near .+, [A-Z]{2}").all(), table.iloc[:3, 0].tolist()


def test_map_page_every_measure_and_scheme(demo_app) -> None:
    at = _run(MAP_PAGE)
    for measure in CUBE_MEASURES:
        at.selectbox(key="measure").set_value(measure).run()
        _no_failure(at)
    for scheme in SCHEMES:
        at.selectbox(key="scheme").set_value(scheme).run()
        _no_failure(at)


def test_unreachable_database_shows_a_message_not_a_traceback(settings: Settings, environment) -> None:
    environment(
        Settings(
            database_url="postgresql://gcrm:x@127.0.0.1:1/gcrm",
            home=settings.home,
            data_dir=settings.data_dir,
            app_password="x",
        )
    )
    at = _run()
    assert not at.exception
    assert len(at.error) == 1
    assert "The database is not reachable" in at.error[0].value
    assert "gcrm db start" in at.error[0].value


DATA_PAGE = "pages/data.py"
UPLOAD = (
    b"Customer ID,Customer Name,City,State,ZIP\n"
    b"U1,Upload One,Chicago,IL,60601\n"
    b"U2,,Boston,MA,02134\n"
    b"U3,Upload Three,Nowhere,Narnia,\n"
)


def test_data_page_imports_an_upload_with_progress_summary_and_rejects(
    settings: Settings, environment
) -> None:
    environment(settings)
    at = _run(DATA_PAGE)
    _no_failure(at)
    assert at.info and "No accounts yet" in at.info[0].value
    at.file_uploader[0].upload("accounts.csv", UPLOAD, "text/csv").run()
    _no_failure(at)
    assert "**accounts.csv**: 3 rows, 5 columns" in [m.value for m in at.markdown]
    import_button = next(b for b in at.button if b.label == "Import 3 rows")
    import_button.click().run()
    _no_failure(at)
    assert "read=3 inserted=2 updated=0 unchanged=0 rejected=1" in [c.value for c in at.code]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Inserted"] == "2" and metrics["Rejected"] == "1"
    rejects = next(d.value for d in at.dataframe if "Reason" in d.value.columns)
    assert rejects.to_dict("records") == [{"Line": 3, "Reason": "missing name"}]
    assert [b.label for b in at.get("download_button")] == ["Download rejected rows (CSV)"]
    placed = next(d.value for d in at.dataframe if "Placed by" in d.value.columns)
    assert dict(zip(placed["Placed by"], placed["Accounts"], strict=True)) == {
        "ZIP centroid": 1,
        "Not on the map": 1,
    }
    assert any("name no known US state" in c.value for c in at.caption)


def test_data_page_lists_duplicates_and_merges_on_request(settings: Settings, environment) -> None:
    environment(settings)
    at = _run(DATA_PAGE)
    at.file_uploader[0].upload(
        "dupes.csv",
        b"Customer ID,Customer Name,Street,City,State,ZIP\n"
        b"D1,Acme Inc,10 Oak Ave,Denver,CO,80202\nD2,ACME LLC,10 Oak Ave,Denver,CO,80202\n",
        "text/csv",
    ).run()
    next(b for b in at.button if b.label == "Import 2 rows").click().run()
    next(b for b in at.button if b.label == "Find probable duplicates").click().run()
    _no_failure(at)
    pairs = next(d.value for d in at.dataframe if "Why" in d.value.columns)
    assert pairs[["Account A", "Account B"]].values.tolist() == [["D1", "D2"]]
    next(b for b in at.button if b.label == "Merge the second account into the first").click().run()
    _no_failure(at)
    assert any("Merged D2 into D1" in s.value for s in at.success)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Inserted"] == "2"
    placed = next(d.value for d in at.dataframe if "Placed by" in d.value.columns)
    assert placed["Accounts"].sum() == 1


def test_map_page_hot_spots_overlay(demo_app) -> None:
    at = _run(MAP_PAGE)
    at.selectbox(key="measure").set_value("churn_rate").run()
    at.toggle(key="spots").set_value(True).run()
    _no_failure(at)
    assert _table(at).columns[1] == "Churn rate (%)"
    assert any(
        c.value.endswith("regions (false-discovery rate 5%).") and "hot and" in c.value for c in at.caption
    )


def test_map_page_white_space_ranks_unvisited_regions_by_opportunity(demo_app) -> None:
    at = _run(MAP_PAGE)
    at.selectbox(key="level").set_value("county").run()
    at.toggle(key="white").set_value(True).run()
    at.selectbox(key="white-per").set_value("households").run()
    _no_failure(at)
    ranked = next(d.value for d in at.dataframe if "Expected customers" in d.value.columns)
    assert 0 < len(ranked) <= 25
    assert ranked["Opportunity"].is_monotonic_decreasing and (ranked["Opportunity"] > 0).all()
    assert (ranked["Visited lately"] == 0).all()
    assert any(c.value.startswith("Expected customers: the region's households") for c in at.caption)


TRADE_PAGE = "pages/trade_areas.py"


@pytest.mark.parametrize("method", ["rings", "customers", "threshold", "voronoi"])
def test_trade_areas_page_every_method(demo_app, method: str) -> None:
    at = _run(TRADE_PAGE)
    _no_failure(at)
    at.selectbox(key="method").set_value(method).run()
    _no_failure(at)
    figures = next(d.value for d in at.dataframe if "Area" in d.value.columns)
    assert len(figures) >= 1 and (figures["Accounts"] >= 0).all()
    assert {"Customers", "Revenue, last 12 months", "Cannibalisation (%)"} <= set(figures.columns)


def test_trade_areas_by_drive_time_say_how_the_times_were_found(demo_app) -> None:
    at = _run(TRADE_PAGE)
    at.selectbox(key="method").set_value("drivetime").run()
    at.text_input(key="minutes").set_value("15, 45").run()
    _no_failure(at)
    figures = next(d.value for d in at.dataframe if "Area" in d.value.columns)
    assert list(figures["Area"]) == ["within 15 min", "within 45 min"]
    assert figures["Accounts"].is_monotonic_increasing and figures["Accounts"].iloc[-1] > 0
    assert any(
        _shown(c.value).startswith("Drive times: estimate (no road network loaded)") for c in at.caption
    )
    at.text_input(key="minutes").set_value("15, soon").run()
    assert "'soon' is not a drive time" in at.error[0].value


def test_trade_area_rings_grow_with_radius(demo_app) -> None:
    at = _run(TRADE_PAGE)
    at.text_input(key="radii").set_value("10, 50").run()
    figures = next(d.value for d in at.dataframe if "Area" in d.value.columns)
    assert list(figures["Area"]) == ["within 10.0 km", "within 50.0 km"]
    assert figures["Accounts"].is_monotonic_increasing and figures["Accounts"].iloc[-1] > 0
    market = next(d.value for d in at.dataframe if "within 10.0 km" in d.value.columns)
    assert list(market.columns) == ["within 10.0 km", "within 50.0 km"]
    assert market.loc["Population"].str.fullmatch(r"\d{1,3}(,\d{3})*").all()
    shown = market.map(lambda text: float(text.lstrip("$").replace(",", "")))
    for figure in ("Population", "Households", "Jobs located here", "Business establishments"):
        assert 0 < shown.loc[figure, "within 10.0 km"] <= shown.loc[figure, "within 50.0 km"], figure
    assert market.loc["Income per person"].str.startswith("$").all()
    assert (shown.loc["Income per person"] > 5_000).all()
    assert any(c.value.startswith("Estimates from the counties each area covers") for c in at.caption)


def test_trade_area_huff_shows_its_fitted_beta_and_drawn_demand(demo_app) -> None:
    at = _run(TRADE_PAGE)
    at.selectbox(key="method").set_value("huff").run()
    _no_failure(at)
    figures = next(d.value for d in at.dataframe if "Figure" in d.value.columns).set_index("Figure")["Value"]
    beta = float(figures["Distance decay β (fitted to its customers)"])
    assert 0.25 <= beta <= 4.0
    drawn = float(figures["Expected accounts drawn"].replace(",", ""))
    within = int(figures["Accounts in the cells"].replace(",", ""))
    assert 0 < drawn <= within
    assert re.fullmatch(r"\$\d{1,3}(,\d{3})*", figures["Expected revenue drawn, last 12 months"])


def test_the_server_warms_the_shared_caches_before_anyone_signs_in(demo_app, caplog) -> None:
    """Regression: the warm-up read boundaries as the signed-in user, failed without one, warmed nothing."""
    from pages._shared import caches

    st.cache_resource.clear()
    st.cache_data.clear()
    with caplog.at_level(logging.WARNING, logger="pages._shared.caches"):
        caches.warm_caches()
    assert "caches not warmed" not in caplog.text


def test_the_server_warms_the_facts_of_the_reps_and_managers_who_signed_in_lately(
    planned: tuple[Settings, Connections], environment, monkeypatch
) -> None:
    """A rep who signed in yesterday finds their facts loaded; a manager of last month does not."""
    from pages._shared import caches

    settings, conns = planned
    environment(settings)
    now = clock.now()
    with conns.owner.transaction(user="t") as cur:
        cur.execute("UPDATE app_users SET last_login_at = NULL")
        cur.execute(
            "UPDATE app_users SET last_login_at = CASE username WHEN 'rep' THEN %s WHEN 'manager' THEN %s END"
            " WHERE username IN ('rep', 'manager')",
            (now - timedelta(days=1), now - timedelta(days=30)),
        )
    scopes = {user: user_scope(conns.app, user=user) for user in ("rep", "manager")}
    version = data_version(conns.app, user="rep")
    st.cache_resource.clear()
    st.cache_data.clear()
    caches.warm_caches()
    loads = []
    monkeypatch.setattr(
        caches, "load_facts", lambda db, *, user: loads.append(user) or load_facts(db, user=user)
    )
    rep = caches.cached_facts(scopes["rep"], version, "rep")
    assert loads == [] and len(rep.accounts) > 0, "the rep's facts were not warmed"
    caches.cached_facts(scopes["manager"], version, "manager")
    assert loads == ["manager"], "a manager who signed in a month ago is not warmed"


def test_no_page_script_shows_a_stray_string() -> None:
    """Regression: a constant's docstring in a page script was drawn on the page (Streamlit's magic)."""
    import ast

    scripts = [
        PROJECT_DIR / "app.py",
        *(p for p in (PROJECT_DIR / "pages").glob("*.py") if p.name != "__init__.py"),
    ]
    stray = [
        f"{path.name}:{node.lineno}"
        for path in scripts
        for node in ast.parse(path.read_text()).body[1:]
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]
    assert stray == []


def test_sessions_of_one_scope_share_a_cube_answer_until_the_book_changes(
    settings: Settings, connections, environment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sessions that see the same rows compute the map's answer once; a write makes a new one."""
    from geo.ingest.whole_book import load_demo_book
    from geo.store.db import SYSTEM_USER
    from pages._shared import caches

    load_demo_book(connections.owner, settings.data_dir, accounts=300, seed=3)
    environment(settings)
    answered = []
    real_answer = caches.answer_cube

    def counted_answer(*args, **kwargs):
        answered.append(kwargs["by"])
        return real_answer(*args, **kwargs)

    monkeypatch.setattr(caches, "answer_cube", counted_answer)
    first = _run(MAP_PAGE)
    _no_failure(first)
    second = AppTest.from_file(APP, default_timeout=120)
    second.session_state["gcrm_user"] = ADMIN
    second.run()
    second.switch_page(MAP_PAGE).run()
    _no_failure(second)
    assert answered == ["state"], "the second session computed the answer again"
    assert _table(second)["Customers"].sum() == _table(first)["Customers"].sum()

    with connections.owner.transaction(user=SYSTEM_USER) as cur:
        cur.execute(
            "UPDATE accounts SET status = 'churned'"
            " WHERE account_id = (SELECT min(account_id) FROM accounts WHERE status = 'customer')"
        )
    second.run()
    _no_failure(second)
    assert answered == ["state", "state"]
    assert _table(second)["Customers"].sum() == _table(first)["Customers"].sum() - 1


def test_trade_areas_open_on_the_branch_holding_most_of_a_managers_accounts(planned, environment) -> None:
    """Regression: the page opened on the first branch, often far outside a manager's region."""
    settings, conns = planned
    environment(settings)
    st.cache_resource.clear()
    st.cache_data.clear()
    with conns.owner.transaction(user="t") as cur:
        cur.execute("SELECT branch_id, ST_X(geom), ST_Y(geom) FROM branches ORDER BY branch_id")
        branch_ids, branch_lons, branch_lats = (
            np.array(column) for column in zip(*cur.fetchall(), strict=True)
        )
        cur.execute("SELECT set_config('gcrm.user', 'manager', true)")
        cur.execute(
            "SELECT ST_X(geom), ST_Y(geom) FROM accounts"
            " WHERE geom IS NOT NULL AND territory_id = ANY(gcrm_territories())"
        )
        own = np.array(cur.fetchall())
    distances = haversine_m(own[:, 0, None], own[:, 1, None], branch_lons[None, :], branch_lats[None, :])
    counts = pd.Series(branch_ids[distances.argmin(axis=1)]).value_counts()
    expected = int(counts[counts == counts.max()].index.min())
    assert expected != int(branch_ids.min()), (
        "the rep's branch is the first one: the test would prove nothing"
    )
    at = signed_in_through_form("manager", "manager-demo")
    at.switch_page(TRADE_PAGE).run()
    _no_failure(at)
    assert at.selectbox(key="branch").value == expected
    figures = next(d.value for d in at.dataframe if "Area" in d.value.columns)
    assert figures["Accounts"].max() > 0


def test_the_trade_areas_address_holds_the_branch(demo_app) -> None:
    """A reload or a shared link (``?branch=ID``) opens the same branch; picking another updates it."""
    at = _run(TRADE_PAGE)
    _no_failure(at)
    shown = at.selectbox(key="branch").value
    assert address(at)["branch"] == [str(shown)]
    other = next(option for option in _branch_ids() if option != shown)
    at.selectbox(key="branch").set_value(other).run()
    _no_failure(at)
    assert address(at)["branch"] == [str(other)]
    linked = app_as(ADMIN, TRADE_PAGE, query={"branch": str(other)})
    _no_failure(linked)
    assert linked.selectbox(key="branch").value == other


def _branch_ids() -> list[int]:
    """The branches the page offers, read from the database (AppTest shows their labels only)."""
    conns = prepare_database(load_settings())
    try:
        return [int(b) for b in branches(conns.app, user=ADMIN.username)["branch_id"]]
    finally:
        conns.close()


def _warnings(at: AppTest) -> list[str]:
    return [_shown(w.value) for w in at.warning]


def test_the_sales_by_region_address_holds_the_view(demo_app) -> None:
    """Level, measure, classes, period, filters and drill path go to the address as they change."""
    at = _run(MAP_PAGE)
    assert address(at) == {}
    at.selectbox(key="level").set_value("county").run()
    at.selectbox(key="measure").set_value("revenue").run()
    at.selectbox(key="scheme").set_value("natural_breaks").run()
    at.selectbox(key="period").set_value("2025").run()
    next(m for m in at.multiselect if m.label == "Segment").set_value(["SMB", "Enterprise"]).run()
    _no_failure(at)
    view = {
        "measure": ["revenue"],
        "classes": ["natural_breaks"],
        "period": ["2025"],
        "segment": ["SMB", "Enterprise"],
    }
    assert address(at) == {"level": ["county"], **view}
    at.session_state["focus"] = [("state", "17", "Illinois"), ("county", "17031", "Cook, Illinois")]
    at.run()
    _no_failure(at)
    assert address(at) == {"level": ["county"], **view, "drill": ["state:17,county:17031"]}
    next(b for b in at.button if b.label == "Up one level").click().run()
    assert address(at) == {"level": ["county"], **view, "drill": ["state:17"]}


def test_up_from_a_drilled_region_comes_back_to_the_level_chosen(demo_app) -> None:
    """Counties nationally, a county drilled, then up: counties nationally again, not states."""
    at = _run(MAP_PAGE)
    at.selectbox(key="level").set_value("county").run()
    at.session_state["focus"] = [("county", "17031", "Cook, Illinois")]
    at.run()
    _no_failure(at)
    assert _table(at).columns[0] == "ZIP"
    next(b for b in at.button if b.label == "Up one level").click().run()
    _no_failure(at)
    assert at.selectbox(key="level").value == "county"
    assert _table(at).columns[0] == "County"
    assert address(at) == {"level": ["county"]}


def test_a_reloaded_drilled_view_goes_up_to_the_level_it_was_drilled_from(demo_app) -> None:
    at = app_as(ADMIN, MAP_PAGE, query={"level": ["county"], "drill": ["county:17031"]})
    _no_failure(at)
    assert _table(at).columns[0] == "ZIP"
    next(b for b in at.button if b.label == "Up one level").click().run()
    _no_failure(at)
    assert at.selectbox(key="level").value == "county"
    assert address(at) == {"level": ["county"]}


def test_a_sales_by_region_link_restores_the_view_named_from_the_regions(demo_app) -> None:
    at = app_as(
        ADMIN,
        MAP_PAGE,
        query={
            "measure": "revenue",
            "period": "2025",
            "segment": ["smb", "Enterprise"],
            "drill": "state:17,county:17031",
        },
    )
    _no_failure(at)
    assert not at.warning
    assert at.selectbox(key="measure").value == "revenue"
    assert at.selectbox(key="period").value == "2025"
    assert next(m for m in at.multiselect if m.label == "Segment").value == ["SMB", "Enterprise"]
    assert at.session_state["focus"] == [("state", "17", "Illinois"), ("county", "17031", "Cook, Illinois")]
    assert any("United States › Illinois › Cook, Illinois" in m.value for m in at.markdown)
    zips = next(d.value for d in at.dataframe if "ZIP" in d.value.columns)
    assert zips["ZIP"].str.match(r"^60\d{3} ").all()
    assert address(at)["drill"] == ["state:17,county:17031"]


def test_a_hand_edited_sales_by_region_link_warns_and_shows_the_defaults(demo_app) -> None:
    at = app_as(
        ADMIN,
        MAP_PAGE,
        query={
            "level": "planet",
            "measure": "**bold**",
            "segment": ["SMB", "Gold"],
            "drill": "state:06,county:17031",
        },
    )
    _no_failure(at)
    warned = _warnings(at)
    assert any("'planet'" in w and "county, h3_5" in w for w in warned), warned
    assert any("'**bold**'" in w and "accounts" in w for w in warned), warned
    assert not any("<b>" in w.value or "**bold**" in w.value for w in at.warning)
    assert any("'Gold'" in w and "Enterprise, Mid-Market, SMB" in w for w in warned), warned
    assert any("'county:17031'" in w and "no county in California" in w for w in warned), warned
    assert at.selectbox(key="measure").value == "accounts"
    assert next(m for m in at.multiselect if m.label == "Segment").value == []
    assert at.session_state["focus"] == [("state", "06", "California")]
    counties = _table(at)
    assert counties.columns[0] == "County" and counties["County"].str.endswith(", California").all()
    assert address(at) == {"drill": ["state:06"]}
    at.run()
    assert not at.warning


def test_a_drill_link_needs_regions_inside_each_other(demo_settings: Settings, demo_app) -> None:
    at = app_as(ADMIN, MAP_PAGE, query={"drill": "county:17031,state:17"})
    _no_failure(at)
    assert any("'state:17'" in w and "no ZIP in Cook, Illinois" in w for w in _warnings(at))
    assert at.session_state["focus"] == [("county", "17031", "Cook, Illinois")]
    at = app_as(ADMIN, MAP_PAGE, query={"drill": "state:99"})
    assert any("'state:99'" in w and "no state, county or ZIP" in w for w in _warnings(at))
    assert at.session_state["focus"] == []
    assert _table(at).columns[0] == "State"
    conns = prepare_database(demo_settings)
    with conns.owner.transaction(user=ADMIN.username) as cur:
        cur.execute("SELECT min(zip) FROM accounts WHERE county_fips = '17031'")
        (zip_code,) = cur.fetchone()
    conns.close()
    at = app_as(ADMIN, MAP_PAGE, query={"drill": f"state:17,county:17031,zip:{zip_code},zip:{zip_code}"})
    assert any(f"'zip:{zip_code}'" in w and f"no region in {zip_code}" in w for w in _warnings(at))
    assert [key for _level, key, _name in at.session_state["focus"]] == ["17", "17031", zip_code]


def test_the_drive_time_caption_shows_an_extracts_name_as_typed() -> None:
    """Regression: the basis label (it holds the extract's file name) reached the caption's Markdown raw."""
    from geo.maps.escaping import markdown_text
    from geo.roads.travel import Basis
    from pages.trade_areas import _basis_caption

    label = "by road (*bold*_[link](x).osm.pbf)"
    caption = _basis_caption(Basis(by_road=True, label=label), "drivetime")
    assert caption.startswith(f"Drive times {markdown_text(label)}; ") and "(*bold*" not in caption
    assert _shown(caption).startswith(f"Drive times {label}; ")


def test_the_market_of_an_area_without_residents_shows_a_dash_not_none(
    settings: Settings, environment
) -> None:
    """Regression: income per person of an area with no residents (a branch at sea) read "None"."""
    conns = prepare_database(settings)
    with conns.owner.transaction(user=ADMIN.username) as cur:
        cur.execute(
            "INSERT INTO branches (external_id, name, kind, city, state, geom)"
            " VALUES ('B-SEA', 'Offshore', 'office', 'Nowhere', 'FL',"
            " ST_SetSRID(ST_MakePoint(-70.0, 30.0), 4326))"
        )
    conns.close()
    environment(settings)
    at = _run(TRADE_PAGE)
    at.text_input(key="radii").set_value("5").run()
    _no_failure(at)
    market = next(d.value for d in at.dataframe if "within 5.0 km" in d.value.columns)
    assert market.loc["Income per person", "within 5.0 km"] == "—"
    assert market.loc["Population", "within 5.0 km"] == "0"
    assert not market.isna().any().any()
