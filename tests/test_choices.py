"""Choices come from the book: typed values match in any case, unknown ones are errors listing the valid."""

from __future__ import annotations

import ast
import io

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from support.users import ADMIN
from typer.testing import CliRunner

from gcrm import app
from geo.choices import match_choices, parse_where, state_spellings
from geo.config import PROJECT_DIR, Settings
from geo.errors import InvalidChoice
from geo.store.bootstrap import prepare_database

STATES = pd.DataFrame(
    {
        "code": ["06", "17", "55"],
        "name": ["California", "Illinois", "Wisconsin"],
        "abbrev": ["CA", "IL", "WI"],
    }
)


def _invoke(args: list[str]):
    return CliRunner().invoke(app, args)


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], {}),
        (["segment=SMB"], {"segment": ["SMB"]}),
        (["Segment = SMB, Mid-Market ,"], {"segment": ["SMB", "Mid-Market"]}),
        (["state=IL", "state=wisconsin"], {"state": ["IL", "wisconsin"]}),
    ],
)
def test_parse_where_reads_fields_and_values(items: list[str], expected: dict) -> None:
    assert parse_where(items, ["segment", "state"]) == expected


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("segment", "write FIELD=VALUE"),
        ("segment=", "write FIELD=VALUE"),
        ("segment= , ", "write FIELD=VALUE"),
        ("colour=red", "unknown field 'colour'; choose one of segment, state"),
    ],
)
def test_parse_where_refuses_what_it_cannot_read(item: str, message: str) -> None:
    with pytest.raises(InvalidChoice, match=message):
        parse_where([item], ["segment", "state"])


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (["IL"], ["17"]),
        (["il"], ["17"]),
        (["illinois"], ["17"]),
        (["  ILLINOIS "], ["17"]),
        (["17"], ["17"]),
        (["6", "california", "CA"], ["06"]),
        (["wi", "IL"], ["55", "17"]),
    ],
)
def test_states_match_by_postal_code_name_or_fips(typed: list[str], expected: list[str]) -> None:
    assert match_choices("state", typed, state_spellings(STATES)) == expected


def test_an_unknown_value_is_an_error_listing_the_valid_ones() -> None:
    with pytest.raises(InvalidChoice, match=r"No state 'Narnia' in the book; choose from CA, IL, WI"):
        match_choices("state", ["IL", "Narnia"], state_spellings(STATES))
    many = {f"v{n:03d}": f"v{n:03d}" for n in range(100)}
    with pytest.raises(InvalidChoice, match=r"choose from v000, v001, .* v029 and 70 more"):
        match_choices("zip", ["x"], many)
    with pytest.raises(InvalidChoice, match="No segment 'SMB' in the book; it holds no segment yet"):
        match_choices("segment", ["SMB"], {})


def test_there_is_one_where_parser() -> None:
    """Regression: the cube and the campaigns each had a ``parse_where`` of their own."""
    found = [
        str(path.relative_to(PROJECT_DIR))
        for folder in ("geo", "territories", "pages")
        for path in sorted((PROJECT_DIR / folder).rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef) and "where" in node.name and "parse" in node.name
    ]
    assert found == ["geo/choices.py"]


def _cube(where: str) -> pd.DataFrame:
    result = _invoke(["cube", "--by", "county", "--measure", "accounts,revenue", "--where", where])
    assert result.exit_code == 0, result.output
    return pd.read_csv(io.StringIO(result.stdout), dtype={"key": str})


def test_cli_state_filter_takes_fips_postal_code_and_name_in_any_case(
    demo_settings: Settings, environment
) -> None:
    """Regression: ``--where state=IL`` printed an empty table and exited 0."""
    environment(demo_settings)
    by_fips = _cube("state=17")
    assert len(by_fips) > 0 and by_fips["key"].str.startswith("17").all()
    for typed in ("state=IL", "state=illinois", "state=il", "STATE=Illinois"):
        pd.testing.assert_frame_equal(_cube(typed), by_fips)


def test_cli_segment_filter_ignores_case(demo_settings: Settings, environment) -> None:
    environment(demo_settings)
    exact = _cube("segment=Mid-Market")
    assert len(exact) > 0
    pd.testing.assert_frame_equal(_cube("segment=mid-market"), exact)


@pytest.mark.parametrize(
    ("args", "listed"),
    [
        (
            ["cube", "--by", "state", "--where", "segment=Mid-markt"],
            "choose from Enterprise, Mid-Market, SMB",
        ),
        (
            ["cube", "--by", "state", "--where", "state=Narnia"],
            "No state 'Narnia' in the book; choose from AK,",
        ),
        (["cube", "--by", "state", "--where", "status=active"], "choose from churned, customer, prospect"),
        (
            [
                "campaign",
                "audience",
                "--circle",
                "41.88,-87.63,25",
                "--where",
                "segment=Mid-markt",
                "--count",
            ],
            "No segment 'Mid-markt' in the book; choose from Enterprise, Mid-Market, SMB",
        ),
        (
            ["campaign", "audience", "--regions", "state:IL,Narnia", "--count"],
            "No state 'Narnia' in the book",
        ),
        (["territories", "align", "--units", "county", "--k", "3", "--states", "IL,Narnia"], "No state"),
        (["territories", "align", "--units", "county"], "No territories exist yet: give --k"),
        (["territories", "lock-territory", "NOPE"], "No territory 'NOPE' in the book"),
    ],
)
def test_cli_unknown_value_exits_non_zero_listing_the_valid_ones(
    demo_settings: Settings, environment, args: list[str], listed: str
) -> None:
    environment(demo_settings)
    result = _invoke(args)
    assert result.exit_code == 1, result.output
    assert listed in result.stderr and "Traceback" not in result.output


def test_campaign_regions_take_state_names(demo_settings: Settings, environment) -> None:
    environment(demo_settings)
    counts = [
        _invoke(["campaign", "audience", "--regions", f"state:{states}", "--count"]).stdout
        for states in ("17,55", "IL,wisconsin")
    ]
    assert counts[0] == counts[1] and "Final audience" in counts[0]


OTHER_CRM = "Customer ID,Customer Name,Segment,City,State,Postal Code\n" + "".join(
    f"S{n:03d},Store {n},{('Consumer', 'Corporate', 'Home Office')[n % 3]},{city},{state},{zip_code}\n"
    for n, (city, state, zip_code) in enumerate(
        [
            ("Chicago", "IL", "60601"),
            ("Chicago", "IL", "60614"),
            ("Springfield", "IL", "62701"),
            ("Peoria", "IL", "61602"),
            ("Los Angeles", "CA", "90012"),
            ("San Francisco", "CA", "94103"),
            ("San Diego", "CA", "92101"),
            ("New York", "NY", "10001"),
            ("Buffalo", "NY", "14202"),
            ("Houston", "TX", "77002"),
            ("Seattle", "WA", "98101"),
            ("Denver", "CO", "80202"),
        ]
        * 3
    )
)


def test_a_book_from_another_crm_offers_its_own_segments_and_counts_them(
    settings: Settings, environment, tmp_path
) -> None:
    """Regression: the campaigns page offered SMB, "Mid-market", Enterprise whatever the book held."""
    environment(settings)
    book = tmp_path / "superstore.csv"
    book.write_text(OTHER_CRM)
    imported = _invoke(["import", "accounts", str(book)])
    assert imported.exit_code == 0 and "inserted=36" in imported.stdout, imported.output

    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=120)
    at.session_state["gcrm_user"] = ADMIN
    at.run()
    at.switch_page("pages/campaigns.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.multiselect(key="f_segment").options == ["Consumer", "Corporate", "Home Office"]
    at.switch_page("pages/region_map.py").run()
    cube_segments = next(m for m in at.multiselect if m.label == "Segment")
    assert cube_segments.options == ["Consumer", "Corporate", "Home Office"]

    result = _invoke(
        [
            "campaign",
            "audience",
            "--regions",
            "state:IL,california,ny",
            "--where",
            "segment=corporate",
            "--count",
        ]
    )
    assert result.exit_code == 0, result.output
    stages = pd.read_csv(io.StringIO(result.stdout)).set_index("stage")["count"]
    conns = prepare_database(settings)
    with conns.owner.transaction(user="t") as cur:
        cur.execute(
            "SELECT count(*) FROM accounts WHERE geom IS NOT NULL AND state_fips IN ('17', '06', '36')"
            " AND segment = 'Corporate'"
        )
        expected = cur.fetchone()[0]
    conns.close()
    assert stages["Segment"] == expected == 9
