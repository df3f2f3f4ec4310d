"""Importing a facts table: bad rows are reported with line and reason, the good rows load."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from gcrm import app
from geo.errors import AccessDenied, InvalidChoice, MappingError
from geo.ingest.files import read_csv_bytes
from geo.ingest.region_facts import fact_columns, import_facts
from geo.store.bootstrap import Connections
from geo.store.region_facts import read_facts
from geo.store.users import add_user

USER = "t"
CATALOGUE = ["population", "households", "jobs", "pct_age_65_plus", "median_age"]
TABLE = """\
FIPS,County,Population 2023,households,Jobs,pct_age_65_plus,Median Age
1001,Autauga,60000,22000,11000,16.5,39.0
01003,Baldwin,abc,82000,53000,21.0,43.5
99999,Nowhere,100,50,10,1,30
01005,Barbour,-5,9000,8000,20,41
01007,Bibb,22000,,7000,140,40
,Blank,1,1,1,1,1
01001,Autauga again,61000,22100,11100,16.6,39.1
01009,Blount,"58,000",21000,,18,41.2
"""


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["fips", "population"], ("fips", {"population": ("population", None)})),
        (
            ["Code", "Population 2023", "JOBS"],
            ("Code", {"Population 2023": ("population", "2023"), "JOBS": ("jobs", None)}),
        ),
        (["GEOID", "name", "median_age_2019"], ("GEOID", {"median_age_2019": ("median_age", "2019")})),
    ],
)
def test_fact_columns_match_names_without_regard_to_case_and_read_the_vintage(headers, expected) -> None:
    assert fact_columns(headers, CATALOGUE) == expected


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (["population"], "exactly one code column"),
        (["fips", "code", "population"], "exactly one code column"),
        (["fips", "popultion"], "Unknown fact column(s) popultion; facts are: population, households"),
        (["fips", "population", "Population 2019"], "More than one column for population"),
        (["fips", "name"], "no fact column"),
    ],
)
def test_a_header_without_code_or_with_an_unknown_fact_is_refused_listing_the_facts(headers, message) -> None:
    with pytest.raises(MappingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fact_columns(headers, CATALOGUE)


def test_bad_rows_are_reported_with_line_and_reason_and_the_good_rows_load(connections: Connections) -> None:
    before = read_facts(connections.app, "state", user=USER).loc["01"]
    summary = import_facts(
        connections.app, read_csv_bytes(TABLE.encode()), level="county", source="acs.csv", user=USER
    )
    reasons = dict(zip(summary.rejects["line"], summary.rejects["reason"], strict=True))
    assert reasons == {
        3: "Population 2023: not a number",
        4: "no county has code 99999",
        5: "Population 2023: a count cannot be negative",
        6: "pct_age_65_plus: a percentage lies in 0–100",
        7: "no region code",
        8: "code repeats an earlier row",
    }
    assert (summary.read, summary.regions, summary.values) == (8, 2, 9)
    assert summary.line() == "read=8 loaded=2 rejected=6 values=9"
    assert summary.facts["population"] == "2023"
    counties = read_facts(connections.app, "county", user=USER)
    assert counties.loc["01001", "population"] == 60000 and counties.loc["01009", "population"] == 58000
    assert counties.loc["01003", "households"] != 82000  # a rejected row changes nothing
    after = read_facts(connections.app, "state", user=USER).loc["01"]
    assert after["population"] == counties.loc[counties.index.str.startswith("01"), "population"].sum()
    assert after["population"] != before["population"]


def test_only_an_admin_may_change_facts_and_an_unknown_level_lists_the_levels(
    connections: Connections,
) -> None:
    add_user(connections.owner, "mara", role="marketer", password="mara-password-1", actor=USER)
    with pytest.raises(AccessDenied):
        import_facts(connections.app, read_csv_bytes(TABLE.encode()), level="county", source="x", user="mara")
    with pytest.raises(InvalidChoice, match="facts import at state, county"):
        import_facts(connections.app, read_csv_bytes(TABLE.encode()), level="zip", source="x", user=USER)


def test_the_command_reports_rejects_and_writes_them(
    connections: Connections, environment, settings, tmp_path
) -> None:
    environment(settings)
    source = tmp_path / "facts.csv"
    source.write_text(TABLE, encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    result = CliRunner().invoke(app, ["regions", "facts", "import", str(source), "--rejects", str(rejects)])
    assert result.exit_code == 0, result.output
    assert "read=8 loaded=2 rejected=6 values=9" in result.stdout
    assert "line 4: no county has code 99999" in result.stderr
    assert len(pd.read_csv(rejects)) == 6
    listed = CliRunner().invoke(app, ["regions", "facts", "list"])
    assert listed.exit_code == 0 and "population,Population,count,,3141" in listed.stdout
