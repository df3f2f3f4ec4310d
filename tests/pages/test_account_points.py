"""Accounts as points at the deepest drill level, in step with their table (AppTest, real database)."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest
from support.app import app_as
from support.users import ADMIN

from geo.config import Settings
from geo.field.accounts import accounts_in_county, accounts_in_zip
from geo.maps.escaping import template_literal
from geo.maps.point_maps import PICKED_PANE
from geo.store.bootstrap import prepare_database

MAP_PAGE = "pages/region_map.py"


@pytest.fixture
def demo_app(demo_settings: Settings, environment) -> None:
    environment(demo_settings)


def _no_failure(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _map_scripts(at: AppTest) -> list[str]:
    """The Leaflet script of every ``st_folium`` map the run drew."""
    return [
        json.loads(element.proto.json_args)["script"]
        for element in at.get("component_instance")
        if "script" in json.loads(element.proto.json_args or "{}")
    ]


def _listed(at: AppTest):
    return next(d for d in at.dataframe if "Account ID" in d.value.columns)


def _zip_with_accounts(settings: Settings, *, at_least: int) -> tuple[list, str]:
    """The drill path (state, county, ZIP) of a ZIP holding at least ``at_least`` placed accounts."""
    conns = prepare_database(settings)
    with conns.owner.transaction(user=ADMIN.username) as cur:
        cur.execute(
            "SELECT state_fips, county_fips, zip FROM accounts WHERE geom IS NOT NULL AND zip IS NOT NULL"
            " GROUP BY 1, 2, 3 HAVING count(*) >= %s ORDER BY count(*) DESC, zip LIMIT 1",
            (at_least,),
        )
        state, county, zip_code = cur.fetchone()
    conns.close()
    return [("state", state, state), ("county", county, county), ("zip", zip_code, zip_code)], zip_code


def test_a_row_picked_in_a_zips_table_is_shown_apart_on_its_map(demo_settings: Settings, demo_app) -> None:
    focus, zip_code = _zip_with_accounts(demo_settings, at_least=3)
    at = app_as(ADMIN, MAP_PAGE, state={"focus": focus})
    _no_failure(at)
    (script,) = _map_scripts(at)
    assert PICKED_PANE not in script
    listed = _listed(at)
    assert listed.proto.selection_mode, "the table offers no row to pick"
    at.session_state[f"zip-table-{zip_code}"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    _no_failure(at)
    (script,) = _map_scripts(at)
    name = _listed(at).value["Name"].iloc[1]
    assert f'"pane": "{PICKED_PANE}"' in script
    tooltip = script.split(f'"pane": "{PICKED_PANE}"', 1)[1]
    assert template_literal(name) in tooltip.split("permanent", 1)[0] and '"permanent": true' in tooltip


def test_an_account_to_pick_on_arriving_at_its_zip_is_picked(demo_settings: Settings, demo_app) -> None:
    focus, zip_code = _zip_with_accounts(demo_settings, at_least=3)
    conns = prepare_database(demo_settings)
    accounts = accounts_in_zip(conns.app, zip_code, user=ADMIN.username)
    conns.close()
    wanted = accounts["external_id"].iloc[2]
    at = app_as(ADMIN, MAP_PAGE, state={"focus": focus, "pending_picks": {f"zip-table-{zip_code}": wanted}})
    _no_failure(at)
    assert list(at.session_state[f"zip-table-{zip_code}"]["selection"]["rows"]) == [2]
    assert f'"pane": "{PICKED_PANE}"' in _map_scripts(at)[0]
    assert at.session_state["pending_picks"] == {}, "the pick is kept for a later visit"


def test_a_drilled_county_with_few_accounts_shows_them_as_points(demo_settings: Settings, demo_app) -> None:
    focus, _zip_code = _zip_with_accounts(demo_settings, at_least=3)
    conns = prepare_database(demo_settings)
    points = accounts_in_county(conns.app, focus[1][1], user=ADMIN.username, limit=1_000)
    conns.close()
    at = app_as(ADMIN, MAP_PAGE, state={"focus": focus[:2]})
    _no_failure(at)
    assert any(f"The county's {len(points):,} placed accounts as points" in c.value for c in at.caption)
    (script,) = _map_scripts(at)
    for name in points["name"]:
        assert template_literal(name) in script


def test_a_drilled_countys_points_are_the_accounts_the_filters_keep(
    demo_settings: Settings, demo_app
) -> None:
    focus, _zip_code = _zip_with_accounts(demo_settings, at_least=3)
    conns = prepare_database(demo_settings)
    every = accounts_in_county(conns.app, focus[1][1], user=ADMIN.username, limit=1_000)
    conns.close()
    status = every["status"].mode()[0]
    kept = every[every["status"] == status]
    assert 0 < len(kept) < len(every), "the filter keeps all or nothing: the test shows nothing"
    at = app_as(ADMIN, MAP_PAGE, state={"focus": focus[:2], "filter-status": [status]})
    _no_failure(at)
    assert any(f"The county's {len(kept):,} placed accounts the filters keep" in c.value for c in at.caption)
    (script,) = _map_scripts(at)
    for name in every["name"].drop_duplicates(keep=False):
        assert (template_literal(name) in script) == (name in set(kept["name"])), name


def _clicking_script() -> None:
    """A table of three accounts beside a map click recorded from st_folium (AppTest's script)."""
    import pandas as pd
    import streamlit as st

    from pages._shared.picks import accounts_table, pick_clicked, picked_row

    accounts = pd.DataFrame(
        {
            "external_id": ["A-1", "A-2", "A-3", "A-4"],
            "name": ["Alpha", "Unplaced", "Gamma", "Delta"],
            "lon": [-87.60, None, -87.62, -87.63],
            "lat": [41.80, None, 41.82, 41.83],
        }
    )
    picked = picked_row("table", accounts)
    st.session_state["seen"] = [*st.session_state.get("seen", []), picked]
    pick_clicked(st.session_state.get("returned"), accounts, "table", picked)
    accounts_table(accounts, "table")


@pytest.mark.parametrize(
    ("returned", "rows", "seen"),
    [
        ({"last_object_clicked": {"lat": 41.82, "lng": -87.62}}, [2], [None, "A-3"]),
        ({"last_object_clicked": {"lat": 41.83, "lng": -87.63}}, [3], [None, "A-4"]),
        # A cluster's bubble sits between its accounts: clicking it zooms in and picks nothing.
        ({"last_object_clicked": {"lat": 41.815, "lng": -87.615}}, [], [None]),
        (None, [], [None]),
    ],
)
def test_a_click_on_an_account_point_picks_its_row(returned, rows: list[int], seen: list) -> None:
    at = AppTest.from_function(_clicking_script)
    at.session_state["returned"] = returned
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert list(at.session_state["table"]["selection"]["rows"]) == rows
    assert at.session_state["seen"] == seen, "the click did not run the page again with its row picked"
    at.run()
    assert at.session_state["seen"] == [*seen, seen[-1]], "the same click picked again"


TRADE_PAGE = "pages/trade_areas.py"


def _account_points(script: str) -> int:
    """Account points a map script draws: one by one, or in a cluster's array (radius 7 either way)."""
    clustered = re.search(r"var data = (\[.*?\]\]);", script)
    return len(json.loads(clustered.group(1))) if clustered else script.count('"radius": 7,')


def test_a_picked_trade_area_lists_its_accounts_in_step_with_its_points(demo_app) -> None:
    at = app_as(ADMIN, TRADE_PAGE)
    at.text_input(key="radii").set_value("10, 50").run()
    _no_failure(at)
    figures = next(d.value for d in at.dataframe if "Area" in d.value.columns)
    (script,) = _map_scripts(at)
    assert _account_points(script) == figures["Accounts"].iloc[-1] > figures["Accounts"].iloc[0] > 1
    assert not any("Account ID" in d.value.columns for d in at.dataframe)
    figures_key = f"areas-{at.session_state['branch']}-rings"
    at.session_state[figures_key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    _no_failure(at)
    listed = _listed(at).value
    assert len(listed) == figures["Accounts"].iloc[0]
    assert list(listed.columns) == ["Account ID", "Name", "Status", "Revenue, last 12 months"]
    assert any(f"{len(listed):,} accounts within 10.0 km" in m.value for m in at.markdown)
    (script,) = _map_scripts(at)
    assert _account_points(script) == len(listed) and PICKED_PANE not in script
    at.session_state[f"{figures_key}-accounts-0"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    _no_failure(at)
    (script,) = _map_scripts(at)
    assert _account_points(script) == len(listed) - 1
    picked = script.split(f'"pane": "{PICKED_PANE}"', 1)[1]
    assert template_literal(listed["Name"].iloc[1]) in picked.split("permanent", 1)[0]
