"""Targets and filters read from what people type or pick: tables of input → parts, filters or error."""

from __future__ import annotations

from datetime import date

import pytest

from geo.campaigns.filters import Filters, form_filters, match_filters, parse_filters
from geo.campaigns.target import (
    Part,
    circle_part,
    circle_text_part,
    county_or_zip,
    picked_parts,
    region_part,
    regions_text_part,
    territory_part,
    trade_area_part,
    typed_codes,
)
from geo.errors import CampaignError, InvalidChoice

STATES = {"IL": "17", "Illinois": "17", "17": "17", "WI": "55", "Wisconsin": "55", "55": "55"}
COUNTIES = {"17031", "55079"}
BOOK = {
    "segment": ["Mid-Market", "SMB"],
    "industry": ["Energy", "Retail"],
    "status": ["customer", "prospect"],
}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: region_part("country", ["US"]),
            "Unknown region level 'country'; choose state, county or zip.",
        ),
        (lambda: region_part("county", ["IL"]), "Region codes for county are 5-digit numbers, got IL."),
        (lambda: region_part("state", ["123"]), "Region codes for state are 2-digit numbers, got 123."),
        (lambda: region_part("zip", []), "Region codes for zip are 5-digit numbers, got none."),
        (lambda: trade_area_part([]), "Pick at least one branch for a trade-area target."),
        (
            lambda: trade_area_part([1], radius_km=0),
            "Ring radius 0 km: use more than 0 and at most 1,000 km.",
        ),
        (
            lambda: trade_area_part([1], radius_km=1000.5),
            "Ring radius 1000.5 km: use more than 0 and at most 1,000 km.",
        ),
        (
            lambda: territory_part([1], operation="xor"),
            "Unknown operation 'xor'; choose union, intersection or difference.",
        ),
        (
            lambda: circle_text_part("41.88,-87.63"),
            "--circle '41.88,-87.63': write LAT,LON,KM, e.g. 41.88,-87.63,25.",
        ),
        (lambda: circle_text_part("a,b,c"), "--circle 'a,b,c': write LAT,LON,KM, e.g. 41.88,-87.63,25."),
        (
            lambda: regions_text_part("17031"),
            "--regions '17031': write LEVEL:CODE[,CODE…], e.g. state:06,41.",
        ),
        (lambda: regions_text_part("state:IL"), "Region codes for state are 2-digit numbers, got IL."),
    ],
)
def test_parts_refuse_what_they_cannot_use(make, message: str) -> None:
    with pytest.raises(CampaignError) as raised:
        make()
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("text", "states", "expected"),
    [
        ("county:17031", None, Part("region", level="county", codes=("17031",))),
        (" zip : 60614, 2134 ,", None, Part("region", level="zip", codes=("02134", "60614"))),
        ("state:17,6", None, Part("region", level="state", codes=("06", "17"))),
        ("state:il, Wisconsin", STATES, Part("region", level="state", codes=("17", "55"))),
        ("state:Illinois,IL", STATES, Part("region", level="state", codes=("17",))),
    ],
)
def test_regions_text_part(text: str, states: dict | None, expected: Part) -> None:
    assert regions_text_part(text, states=states) == expected


def test_a_state_name_that_is_no_state_lists_the_valid_ones() -> None:
    with pytest.raises(
        InvalidChoice, match=r"^No state 'Narnia' in the book; choose from IL, WI \(any case\)\.$"
    ):
        regions_text_part("state:Narnia", states=STATES)


def test_circle_text_part() -> None:
    assert circle_text_part("41.88, -87.63, 25") == Part("circle", lon=-87.63, lat=41.88, radius_m=25_000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("17031", ["17031"]),
        (" 17031 ,60614,, ", ["17031", "60614"]),
        ("60614, 17031", ["60614", "17031"]),
    ],
)
def test_typed_codes(text: str, expected: list[str]) -> None:
    assert typed_codes(text) == expected


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([], {"county": [], "zip": []}),
        (["17031", "60614"], {"county": ["17031"], "zip": ["60614"]}),
        (["60614", "55079", "17031"], {"county": ["55079", "17031"], "zip": ["60614"]}),
        (["606", "170310", "6061x"], {"county": [], "zip": ["6061x"]}),
    ],
)
def test_county_or_zip(codes: list[str], expected: dict[str, list[str]]) -> None:
    assert county_or_zip(codes, COUNTIES) == expected


PICKED_NOTHING = {"states": [], "codes": [], "territories": [], "branches": [], "ring_km": 0.0}


@pytest.mark.parametrize(
    ("picked", "expected"),
    [
        ({}, []),
        ({"states": ["17"]}, [Part("region", "difference", level="state", codes=("17",))]),
        (
            {"states": ["17"], "codes": ["17031", "60614", "123"], "territories": [4], "branches": [2]},
            [
                Part("region", "difference", level="state", codes=("17",)),
                Part("region", level="county", codes=("17031",)),
                Part("region", level="zip", codes=("60614",)),
                Part("territory", codes=("4",)),
                Part("trade_area", codes=("2",)),
            ],
        ),
        (
            {"codes": ["60614"], "territories": [4, 5]},
            [
                Part("region", "difference", level="zip", codes=("60614",)),
                Part("territory", codes=("4", "5")),
            ],
        ),
        (
            {"branches": [2, 1], "ring_km": 25.0},
            [Part("trade_area", "difference", radius_m=25_000, codes=("2", "1"))],
        ),
    ],
)
def test_picked_parts_combine_the_first_by_the_operation_and_unite_the_rest(
    picked: dict, expected: list[Part]
) -> None:
    given = PICKED_NOTHING | picked
    assert list(picked_parts(**given, counties=COUNTIES, operation="difference")) == expected


def test_parts_picked_before_a_refused_zip_stay_usable() -> None:
    made = []
    with pytest.raises(CampaignError, match="Region codes for zip are 5-digit numbers, got 6061x"):
        for part in picked_parts(
            **PICKED_NOTHING | {"states": ["17"], "codes": ["6061x"], "branches": [1]}, counties=COUNTIES
        ):
            made.append(part)
    assert made == [Part("region", level="state", codes=("17",))]


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], Filters()),
        (["segment=SMB, Mid-Market"], Filters(segments=("SMB", "Mid-Market"))),
        (["industry=Retail", "industry=Energy"], Filters(industries=("Retail", "Energy"))),
        (["status=customer"], Filters(statuses=("customer",))),
        (["revenue_min=1000", "revenue_max=2e3"], Filters(revenue_min=1000.0, revenue_max=2000.0)),
        (
            ["last_order_after=2025-01-31", "last_order_before=2025-04-01"],
            Filters(last_order_after=date(2025, 1, 31), last_order_before=date(2025, 4, 1)),
        ),
        (["no_visit_days=30"], Filters(no_visit_days=30)),
        (["min_precision=STREET"], Filters(min_precision="street")),
        (["Min_Precision = none"], Filters(min_precision="none")),
    ],
)
def test_parse_filters(items: list[str], expected: Filters) -> None:
    assert parse_filters(items) == expected


@pytest.mark.parametrize(
    ("items", "error", "message"),
    [
        (["revenue_min=1,2"], CampaignError, "--where revenue_min: takes one value, got 1, 2."),
        (
            ["revenue_min=lots"],
            CampaignError,
            "--where revenue_min=lots: could not convert string to float: 'lots'.",
        ),
        (
            ["no_visit_days=3.5"],
            CampaignError,
            "--where no_visit_days=3.5: invalid literal for int() with base 10: '3.5'.",
        ),
        (
            ["last_order_after=2025-13-01"],
            CampaignError,
            "--where last_order_after=2025-13-01: month must be in 1..12.",
        ),
        (
            ["min_precision=exact"],
            InvalidChoice,
            "No min_precision 'exact' in the book; choose from city, given, manual, none, postal, region,"
            " rooftop, street (any case).",
        ),
        (
            ["colour=red"],
            InvalidChoice,
            "--where 'colour=red': unknown field 'colour'; choose one of segment, industry, status,"
            " revenue_min, revenue_max, last_order_after, last_order_before, no_visit_days, min_precision.",
        ),
        (
            ["segment"],
            InvalidChoice,
            "--where 'segment': write FIELD=VALUE[,VALUE…] with FIELD one of segment, industry, status,"
            " revenue_min, revenue_max, last_order_after, last_order_before, no_visit_days, min_precision.",
        ),
    ],
)
def test_parse_filters_refuses(items: list[str], error: type, message: str) -> None:
    with pytest.raises(error) as raised:
        parse_filters(items)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (Filters(), Filters()),
        (Filters(segments=("smb", "MID-market")), Filters(segments=("SMB", "Mid-Market"))),
        (
            Filters(industries=("retail",), statuses=("Customer", "customer"), revenue_min=5.0),
            Filters(industries=("Retail",), statuses=("customer",), revenue_min=5.0),
        ),
    ],
)
def test_match_filters_gives_the_books_spelling(typed: Filters, expected: Filters) -> None:
    assert match_filters(typed, BOOK) == expected


def test_a_filter_value_the_book_lacks_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidChoice) as raised:
        match_filters(Filters(segments=("Startup",)), BOOK)
    assert str(raised.value) == "No segment 'Startup' in the book; choose from Mid-Market, SMB (any case)."


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({}, Filters(min_precision="region")),
        (
            {
                "segments": ["SMB"],
                "statuses": ["customer"],
                "industries": ["Retail"],
                "min_precision": "postal",
            },
            Filters(
                segments=("SMB",), statuses=("customer",), industries=("Retail",), min_precision="postal"
            ),
        ),
        ({"revenue_min": 100.0, "revenue_max": 0.0}, Filters(revenue_min=100.0)),
        ({"revenue_min": 0.0, "revenue_max": 5e5}, Filters(revenue_max=5e5)),
        ({"last_order_after": date(2025, 2, 1)}, Filters(last_order_after=date(2025, 2, 1))),
        ({"last_order_after": ()}, Filters()),
        ({"no_visit_days": 45}, Filters(no_visit_days=45)),
    ],
)
def test_form_filters_read_zero_as_no_limit(form: dict, expected: Filters) -> None:
    blank = {
        "segments": [],
        "statuses": [],
        "industries": [],
        "min_precision": "region",
        "revenue_min": 0.0,
        "revenue_max": 0.0,
        "last_order_after": None,
        "no_visit_days": 0,
    }
    assert form_filters(**blank | form) == expected


def test_a_circle_part_is_built_on_the_ground() -> None:
    assert circle_part(41.88, -87.63, 2.5) == Part("circle", lon=-87.63, lat=41.88, radius_m=2_500)
