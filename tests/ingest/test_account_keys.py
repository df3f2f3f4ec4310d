"""Every account has its keys, and only the keys its precision supports (issue 14, point 9).

Accounts written after a plan is published (import, geocoding, new region keys) follow the
active plan at once; an account placed at its state's interior point carries its state key
only, and counts by county say how many such accounts they leave out.
"""

from __future__ import annotations

from io import StringIO

import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest
from support.app import app_as
from support.users import ADMIN
from typer.testing import CliRunner

from gcrm import app
from geo.analysis.cube import state_level_only
from geo.analysis.cube_answers import answer_cube
from geo.config import PROJECT_DIR, Settings
from geo.field.accounts import load_facts
from geo.ingest.files import read_csv_bytes
from geo.ingest.importer import ImportSummary, detect_mapping, run_import
from geo.ingest.rekeying import reassign_region_keys
from geo.store.bootstrap import Connections
from territories.model import (
    active_version,
    create_version,
    load_book,
    publish,
    save_shape,
    shapes_of_accounts,
    version_plan,
)
from territories.plan import gaps

USER = "manager@test"
LATE = """\
Customer ID,Customer Name,City,State,Zip Code
L1,Late Chicago,Chicago,IL,60601
L2,Late Denver,Denver,CO,80202
L3,Late Boston,Boston,MA,02134
L4,Late St Louis,St. Louis,Missouri,
L5,Late Austin,Austin,TX,78701
"""
KANSAS = """\
Customer ID,Customer Name,City,State,Zip Code
K1,Prairie Supply,Nowheresville,KS,
K2,Wichita Tools,Wichita,KS,67202
"""
MIXED = """\
Customer ID,Customer Name,City,State,Zip Code,Lat,Lng
M1,Given Co,,,,41.88,-87.63
M2,Postal Co,,,60601,,
M3,Postal Two,,,80202,,
M4,City Co,Denver,CO,,,
M5,State Co,Nowheresville,KS,,,
M6,Nowhere Co,,Narnia,,,
"""


def _import(db, text: str, *, data_dir) -> ImportSummary:
    table = read_csv_bytes(text.encode())
    return run_import(
        db,
        "accounts",
        table,
        mapping=detect_mapping(list(table.frame.columns), "accounts"),
        user=USER,
        data_dir=data_dir,
        filename="accounts.csv",
    )


def _rows(conns: Connections, query: str, params: tuple = ()) -> list[tuple]:
    with conns.app.transaction(user=USER) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def _assert_follow_the_active_plan(conns: Connections, external_ids: list[str]) -> None:
    _level, plan, _locked = version_plan(conns.app, active_version(conns.app, user=USER), user=USER)
    rows = _rows(
        conns,
        "SELECT external_id, county_fips, territory_id FROM accounts WHERE external_id = ANY(%s)",
        (external_ids,),
    )
    assert len(rows) == len(external_ids)
    for external_id, county, territory in rows:
        assert county in plan.index, external_id
        assert territory == plan[county], external_id


def test_accounts_imported_after_a_plan_is_published_get_its_territory(planned) -> None:
    settings, conns = planned
    summary = _import(conns.app, LATE, data_dir=settings.data_dir)
    assert summary.inserted == 5
    _assert_follow_the_active_plan(conns, ["L1", "L2", "L3", "L4", "L5"])
    by_territory = answer_cube(conns.app, settings.data_dir, by="territory", measures=["accounts"], user=USER)
    by_state = answer_cube(conns.app, settings.data_dir, by="state", measures=["accounts"], user=USER)
    assert by_territory["accounts"].sum() == by_state["accounts"].sum()
    _level, plan, _locked = version_plan(conns.app, active_version(conns.app, user=USER), user=USER)
    assert gaps(load_book(conns.app, "county", user=USER), plan).empty


def test_a_moved_account_follows_its_new_county_on_reimport(planned) -> None:
    settings, conns = planned
    _import(conns.app, LATE, data_dir=settings.data_dir)
    miami = LATE.replace("Late Denver,Denver,CO,80202", "Late Denver,Miami,FL,33131")
    moved = _import(conns.app, miami, data_dir=settings.data_dir)
    assert moved.updated == 1
    _assert_follow_the_active_plan(conns, ["L2"])


def test_geocoding_places_an_account_in_the_active_plan(planned, environment) -> None:
    settings, conns = planned
    with conns.owner.transaction(user=USER) as cur:
        cur.execute(
            "INSERT INTO accounts (external_id, name, city, state, postal_code)"
            " VALUES ('G1', 'Geocoded later', 'Chicago', 'IL', '60601')"
        )
    environment(settings)
    result = CliRunner().invoke(app, ["geocode", "--missing"])
    assert result.exit_code == 0, result.output
    assert "placed=1" in result.output
    _assert_follow_the_active_plan(conns, ["G1"])


def test_new_region_keys_move_the_account_to_its_territory(planned) -> None:
    settings, conns = planned
    _import(conns.app, LATE, data_dir=settings.data_dir)
    with conns.owner.transaction(user=USER) as cur:
        cur.execute(
            "UPDATE accounts SET county_fips = NULL, h3_r5 = NULL, h3_r7 = NULL, h3_r9 = NULL,"
            " territory_id = NULL WHERE external_id = 'L3'"
        )
    assert reassign_region_keys(conns.app, settings.data_dir, user=USER) == 1
    _assert_follow_the_active_plan(conns, ["L3"])


def test_an_account_placed_at_its_state_centre_has_its_state_key_only(connections: Connections) -> None:
    data_dir = PROJECT_DIR / "data"
    _import(connections.app, KANSAS, data_dir=data_dir)
    keys = "geocode_precision, state_fips, county_fips, zip, h3_r5, h3_r7, h3_r9"
    query = f"SELECT {keys} FROM accounts WHERE external_id = %s"
    assert _rows(connections, query, ("K1",)) == [("region", "20", None, None, None, None, None)]
    precision, state, county, zip_code, *cells = _rows(connections, query, ("K2",))[0]
    assert (precision, state, county, zip_code) == ("postal", "20", "20173", "67202")
    assert all(cells)
    assert reassign_region_keys(connections.app, data_dir, user=USER) == 0
    assert _rows(connections, query, ("K1",)) == [("region", "20", None, None, None, None, None)]


def test_region_keys_again_drop_the_county_of_a_state_level_account(connections: Connections) -> None:
    data_dir = PROJECT_DIR / "data"
    _import(connections.app, KANSAS, data_dir=data_dir)
    with connections.owner.transaction(user=USER) as cur:
        cur.execute("UPDATE accounts SET county_fips = '20053', h3_r5 = 'x' WHERE external_id = 'K1'")
    assert reassign_region_keys(connections.app, data_dir, user=USER) == 1
    assert _rows(connections, "SELECT county_fips, h3_r5 FROM accounts WHERE external_id = 'K1'") == [
        (None, None)
    ]


def test_a_drawn_shape_does_not_claim_an_account_placed_at_its_state_centre(planned) -> None:
    settings, conns = planned
    _import(conns.app, KANSAS, data_dir=settings.data_dir)
    [(lon, lat)] = _rows(conns, "SELECT ST_X(geom), ST_Y(geom) FROM accounts WHERE external_id = 'K1'")
    draft = create_version(
        conns.app, "Kansas", "county", user=USER, copy_from=active_version(conns.app, user=USER)
    )
    _level, plan, _locked = version_plan(conns.app, draft, user=USER)
    square = shapely.box(lon - 0.5, lat - 0.5, lon + 0.5, lat + 0.5)
    save_shape(conns.app, draft, int(plan.iloc[0]), shapely.to_wkb(square, hex=True), user=USER)
    [(k1,)] = _rows(conns, "SELECT account_id FROM accounts WHERE external_id = 'K1'")
    assert k1 not in set(shapes_of_accounts(conns.app, draft, user=USER)["account_id"])
    publish(conns.app, draft, user=USER)
    assert _rows(conns, "SELECT territory_id FROM accounts WHERE external_id = 'K1'") == [(None,)]
    _assert_follow_the_active_plan(conns, ["K2"])


def test_counts_by_county_say_how_many_are_placed_at_state_level_only(
    connections: Connections, settings: Settings, environment
) -> None:
    _import(connections.app, KANSAS, data_dir=settings.data_dir)
    by_county = answer_cube(connections.app, settings.data_dir, by="county", measures=["accounts"], user=USER)
    assert dict(zip(by_county["key"], by_county["accounts"], strict=True)) == {"20173": 1}
    by_state = answer_cube(connections.app, settings.data_dir, by="state", measures=["accounts"], user=USER)
    assert dict(zip(by_state["key"], by_state["accounts"], strict=True)) == {"20": 2}
    facts = load_facts(connections.app, user=USER)
    assert state_level_only(facts, by="county") == 1
    assert state_level_only(facts, by="h3_7", where={"state": ["20"]}) == 1
    assert state_level_only(facts, by="county", where={"state": ["17"]}) == 0
    assert state_level_only(facts, by="state") == 0
    environment(settings)
    result = CliRunner().invoke(app, ["cube", "--by", "county"])
    assert result.exit_code == 0, result.output
    assert "placed at state level only: 1" in result.stderr
    assert pd.read_csv(StringIO(result.stdout), dtype={"key": str})["key"].tolist() == ["20173"]
    by_state_cli = CliRunner().invoke(app, ["cube", "--by", "state"])
    assert by_state_cli.exit_code == 0 and "state level" not in by_state_cli.output


def _page(page: str) -> AppTest:
    return app_as(ADMIN, page)


@pytest.mark.parametrize("level", ["county", "h3_7"])
def test_sales_by_region_counts_state_level_accounts_at_county_level(
    connections: Connections, settings: Settings, environment, level: str
) -> None:
    _import(connections.app, KANSAS, data_dir=settings.data_dir)
    environment(settings)
    at = _page("pages/region_map.py")
    assert not at.exception, [e.message for e in at.exception]
    assert not any("state level only" in c.value for c in at.caption)
    at.selectbox(key="level").set_value(level).run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("Placed at state level only: 1" in c.value for c in at.caption)


def test_the_import_summary_counts_rows_by_precision(
    connections: Connections, settings: Settings, environment, tmp_path
) -> None:
    summary = _import(connections.app, MIXED, data_dir=settings.data_dir)
    assert summary.placed == {"given": 1, "postal": 2, "city": 1, "region": 1, "none": 1}
    assert summary.placements() == "placed: given=1 postal=2 city=1 region=1 none=1"
    source = tmp_path / "mixed.csv"
    source.write_text(MIXED.replace("M", "N"), encoding="utf-8")
    environment(settings)
    result = CliRunner().invoke(app, ["import", "accounts", str(source)])
    assert result.exit_code == 0, result.output
    assert "placed: given=1 postal=2 city=1 region=1 none=1" in result.stdout
    assert result.stdout.strip().endswith("rejected=0")
    at = _page("pages/data.py")
    at.file_uploader[0].upload("mixed.csv", MIXED.replace("M", "P").encode(), "text/csv").run()
    next(b for b in at.button if b.label == "Import 6 rows").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "placed: given=1 postal=2 city=1 region=1 none=1" in [c.value for c in at.caption]
    placed = next(d.value for d in at.dataframe if "How placed" in d.value.columns)
    assert dict(zip(placed["How placed"], placed["Rows"], strict=True)) == {
        "Coordinates in the file": 1,
        "ZIP centroid": 2,
        "City centre": 1,
        "State centre": 1,
        "Not on the map": 1,
    }
