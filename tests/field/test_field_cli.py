"""``gcrm campaign …`` and ``gcrm nearest`` against the demo book."""

from __future__ import annotations

import io
import json
import re

import pandas as pd
from typer.testing import CliRunner

from gcrm import app
from geo.config import Settings
from geo.places.geodesy import haversine_m
from geo.places.shapes import MAX_GEOJSON_BYTES


def _invoke(args: list[str]):
    return CliRunner().invoke(app, args)


def test_audience_count_prints_the_waterfall(demo_settings: Settings, environment) -> None:
    environment(demo_settings)
    result = _invoke(
        ["campaign", "audience", "--circle", "41.88,-87.63,30", "--where", "status=customer", "--count"]
    )
    assert result.exit_code == 0, result.output
    stages = pd.read_csv(io.StringIO(result.stdout))
    assert list(stages.columns) == ["stage", "count"]
    assert stages["stage"].iloc[0] == "Matched the geography" and stages["stage"].iloc[-1] == "Final audience"
    assert stages["count"].is_monotonic_decreasing and stages["count"].iloc[0] > 0


def test_audience_members_as_geojson_hold_only_the_final_audience(
    demo_settings: Settings, environment
) -> None:
    environment(demo_settings)
    args = ["campaign", "audience", "--regions", "state:17,55", "--where", "segment=SMB"]
    counted = pd.read_csv(io.StringIO(_invoke([*args, "--count"]).stdout)).set_index("stage")["count"]
    result = _invoke([*args, "--format", "geojson"])
    assert result.exit_code == 0, result.output
    features = json.loads(result.stdout)["features"]
    assert len(features) == counted["Final audience"] > 0
    assert {f["properties"]["state_fips"] for f in features} <= {"17", "55"}
    assert {f["properties"]["segment"] for f in features} == {"SMB"}


def test_save_export_and_list_a_campaign(demo_settings: Settings, environment, tmp_path) -> None:
    environment(demo_settings)
    shape = tmp_path / "area.geojson"
    shape.write_text(
        json.dumps(
            {
                "type": "Feature",
                "properties": {},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[-88.3, 41.6], [-87.5, 41.6], [-87.5, 42.1], [-88.3, 42.1], [-88.3, 41.6]]
                    ],
                },
            }
        )
    )
    saved = _invoke(["campaign", "save", "North shore", "--geojson", str(shape), "--cost-per-member", "3"])
    assert saved.exit_code == 0, saved.output
    members = int(saved.stdout.split(" with ")[1].split()[0])
    exported = pd.read_csv(io.StringIO(_invoke(["campaign", "export", "North shore"]).stdout))
    assert len(exported) == members > 0
    listed = pd.read_csv(io.StringIO(_invoke(["campaign", "list"]).stdout)).set_index("name")
    assert listed.loc["North shore", "members"] == members
    again = _invoke(["campaign", "save", "North shore", "--geojson", str(shape)])
    assert again.exit_code == 1 and "exists" in again.stderr


def test_bad_targets_get_a_clear_error(demo_settings: Settings, environment, tmp_path) -> None:
    environment(demo_settings)
    (tmp_path / "notes.txt").write_text("these are not coordinates")
    (tmp_path / "huge.geojson").write_text(" " * (MAX_GEOJSON_BYTES + 1))
    for args, message in (
        (["--geojson", str(tmp_path / "notes.txt")], "Not GeoJSON: Expecting value at line 1"),
        (["--geojson", str(tmp_path / "huge.geojson")], "larger than"),
        (["--circle", "41.88,-87.63"], "LAT,LON,KM"),
        ([], "Give a target"),
        (["--regions", "state"], "LEVEL:CODE"),
        (["--geojson", str(tmp_path / "missing.geojson")], "Cannot read"),
        (["--circle", "41.88,-87.63,5", "--where", "colour=red"], "unknown field"),
    ):
        result = _invoke(["campaign", "audience", *args])
        assert result.exit_code == 1 and message in result.stderr, (args, result.output)


def test_nearest_prints_accounts_nearest_first(demo_settings: Settings, environment) -> None:
    environment(demo_settings)
    result = _invoke(["nearest", "--lat", "41.88", "--lon", "-87.63", "-k", "8", "--radius-km", "200"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.stdout))
    assert list(table.columns[:3]) == ["external_id", "name", "distance_m"] and len(table) == 8
    assert table["distance_m"].is_monotonic_increasing
    recomputed = haversine_m(table["lon"], table["lat"], -87.63, 41.88)
    assert (abs(recomputed - table["distance_m"]) < 1.0).all()


def test_nearest_takes_a_place_as_the_page_does(demo_settings: Settings, environment) -> None:
    environment(demo_settings)
    by_place = _invoke(["nearest", "--place", "chicago, il", "-k", "5"])
    assert by_place.exit_code == 0, by_place.output
    assert "note: chicago, il placed at 41.8" in by_place.stderr
    table = pd.read_csv(io.StringIO(by_place.stdout))
    assert len(table) == 5 and table["distance_m"].is_monotonic_increasing
    by_zip = _invoke(["nearest", "--place", "60601", "-k", "5"])
    assert by_zip.exit_code == 0 and len(pd.read_csv(io.StringIO(by_zip.stdout))) == 5
    unknown = _invoke(["nearest", "--place", "Atlantis, ZZ"])
    assert unknown.exit_code == 1 and "Cannot place 'Atlantis, ZZ'" in unknown.stderr
    for args in ([], ["--lat", "41.88"], ["--place", "60601", "--lat", "41.88", "--lon", "-87.63"]):
        result = _invoke(["nearest", *args])
        assert result.exit_code == 2 and "give --place" in result.stderr, (args, result.output)


def test_nearest_as_a_table_reads_as_people_expect(demo_settings: Settings, environment) -> None:
    environment(demo_settings)
    csv = pd.read_csv(
        io.StringIO(_invoke(["nearest", "--lat", "41.88", "--lon", "-87.63", "-k", "6"]).stdout)
    )
    result = _invoke(["nearest", "--lat", "41.88", "--lon", "-87.63", "-k", "6", "--format", "table"])
    assert result.exit_code == 0, result.output
    header, rule, *rows = result.stdout.splitlines()
    assert re.split(r"\s{2,}", header)[:3] == ["Account ID", "Name", "Distance (km)"]
    assert "Revenue, 12 months" in header
    assert set(rule) == {"-", " "} and len(rows) == 6
    assert [row.split()[0] for row in rows] == list(csv["external_id"])
    assert "None" not in result.stdout and "nan" not in result.stdout
    money = re.findall(r"(?<= )(\$[\d,]+|—)(?=  )", "\n".join(rows))
    assert len(money) >= 6 and any(cell.startswith("$") for cell in money)
    assert _invoke(["nearest", "--lat", "41.88", "--lon", "-87.63", "--format", "xml"]).exit_code == 2
