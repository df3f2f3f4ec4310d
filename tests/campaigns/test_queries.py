"""The SQL of an audience, built without a database: tables of input → SQL text and parameters.

In the manner of datasette's ``tests/test_filters.py``: each builder is pure, so each case
names what goes in and the exact text and parameters that come out (or the error).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime

import h3
import pytest
import shapely
from psycopg2 import sql

from geo import clock
from geo.campaigns.filters import Filters
from geo.campaigns.queries import (
    MEMBER_SELECT,
    STAGED_COLUMNS,
    filter_stages,
    stage_counts,
    staged_query,
    target_condition,
)
from geo.campaigns.target import Part, circle_part, polygon_part, region_part, territory_part, trade_area_part
from geo.errors import CampaignError
from geo.places.geodesy import EARTH_RADIUS_M

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SQUARE = "POLYGON ((-88 41, -87 41, -87 42, -88 42, -88 41))"
CELLS = "(a.h3_r5 = ANY(%s) OR a.h3_r5 IS NULL) AND "
"""The leakproof key test before a shape's geometry (row-level security lets it reach an index)."""
RADIUS = (
    "(a.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
    " AND ST_DWithin(a.geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s, false)"
)
CIRCLE = f"{CELLS}(a.h3_r7 = ANY(%s) OR ({RADIUS}))"
"""A circle: its cells, then (outside its interior cells) the search box and the exact distance."""


class CellsAround:
    """Equal to a sorted list of distinct H3 cells of ``resolution`` that holds the cells of ``points``."""

    def __init__(self, *points: tuple[float, float], resolution: int = 5) -> None:
        self.resolution = resolution
        self.cells = {h3.latlng_to_cell(lat, lon, resolution) for lon, lat in points}

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, list)
            and other == sorted(set(other))
            and all(h3.get_resolution(cell) == self.resolution for cell in other)
            and self.cells <= set(other)
        )

    def __repr__(self) -> str:
        return f"CellsAround({sorted(self.cells)})"


def _circle(lon: float, lat: float, radius_m: float) -> list:
    """A circle's radius parameters: the cap's box (latitude ± δ, longitude ± asin(sin δ / cos φ))."""
    delta = radius_m / EARTH_RADIUS_M
    reach = math.degrees(math.asin(math.sin(delta) / math.cos(math.radians(lat))))
    box = [lon - reach, lat - math.degrees(delta), lon + reach, lat + math.degrees(delta)]
    return [*(pytest.approx(value, abs=1e-6) for value in box), lon, lat, radius_m]


DENSIFIED = "ST_Segmentize(ST_GeomFromText(%s, 4326)::geography, %s)::geometry"
POLYGON = f"{CELLS}(a.h3_r7 = ANY(%s) OR (a.geom && {DENSIFIED} AND ST_Intersects(a.geom, {DENSIFIED})))"
SQUARE_CORNERS = ((-88, 41), (-87, 41), (-87, 42), (-88, 42), (-87.5, 41.5))
NEAREST = (
    "EXISTS (SELECT 1 FROM pg_temp.nearest_branches n"
    " WHERE n.account_id = a.account_id AND n.branch_id = ANY(%s))"
)
"""A nearest-branch trade area: membership in the nearest branches staged for the transaction."""
BRANCHES = {1: (-87.63, 41.88), 2: (-87.9, 42.05)}
"""``branch_id`` → (lon, lat) of the branches a ring target is drawn around."""
CONSENT = (
    "No marketing consent or suppressed",
    "a.marketing_consent AND gcrm_identifier_hash(a.external_id)"
    " NOT IN (SELECT s.identifier_hash FROM suppression_list s)"
    " AND coalesce(a.name_postal_hash, '') NOT IN (SELECT s.identifier_hash FROM suppression_list s)",
    [],
)
PRECISE = "a.geocode_precision = ANY(%s)"
AT_LEAST_REGION = (
    "Geocode too coarse",
    PRECISE,
    [["region", "city", "postal", "street", "rooftop", "given", "manual"]],
)
LAST_ORDER = "(SELECT max(o.order_date) FROM orders o WHERE o.account_id = a.account_id AND o.stage = 'won')"
NO_VISIT = (
    "NOT EXISTS (SELECT 1 FROM account_last_visits v WHERE v.account_id = a.account_id"
    " AND v.last_visit_at > %s::timestamptz - make_interval(days => %s))"
)


def _text(composable: sql.Composable) -> str:
    """Render SQL as psycopg2 would, without a connection (identifiers double-quoted)."""
    if isinstance(composable, sql.Composed):
        return "".join(_text(part) for part in composable.seq)
    if isinstance(composable, sql.SQL):
        return composable.string
    if isinstance(composable, sql.Identifier):
        return ".".join('"' + name.replace('"', '""') + '"' for name in composable.strings)
    msg = f"no rendering for {composable!r}"
    raise TypeError(msg)


@pytest.mark.parametrize(
    ("parts", "expected_sql", "expected_params"),
    [
        (
            [circle_part(41.88, -87.63, 25)],
            f"({CIRCLE})",
            [
                CellsAround((-87.63, 41.88), (-87.63, 42.1)),
                CellsAround((-87.63, 41.88), resolution=7),
                *_circle(-87.63, 41.88, 25_000.0),
            ],
        ),
        (
            [Part("polygon", wkt=SQUARE)],
            f"({POLYGON})",
            [
                CellsAround(*SQUARE_CORNERS),
                CellsAround((-87.5, 41.5), resolution=7),
                SQUARE,
                500.0,
                SQUARE,
                500.0,
            ],
        ),
        ([region_part("state", ["17", "6"])], '(a."state_fips" = ANY(%s))', [["06", "17"]]),
        ([region_part("county", ["17031"])], '(a."county_fips" = ANY(%s))', [["17031"]]),
        ([region_part("zip", [" 60614 ", "2134"])], '(a."zip" = ANY(%s))', [["02134", "60614"]]),
        ([territory_part([7, 3])], "(a.territory_id = ANY(%s))", [[7, 3]]),
        (
            [trade_area_part([2, 1], radius_km=5)],
            f"({CELLS}(a.h3_r7 = ANY(%s) OR (({RADIUS}) OR ({RADIUS}))))",
            [
                CellsAround((-87.9, 42.05), (-87.63, 41.88)),
                CellsAround((-87.9, 42.05), (-87.63, 41.88), resolution=7),
                *_circle(-87.9, 42.05, 5_000.0),
                *_circle(-87.63, 41.88, 5_000.0),
            ],
        ),
        ([trade_area_part([3], radius_km=5)], "(false)", []),
        ([trade_area_part([4])], f"({NEAREST})", [[4]]),
        (
            [region_part("state", ["17"]), region_part("zip", ["94103"])],
            '((a."state_fips" = ANY(%s)) OR (a."zip" = ANY(%s)))',
            [["17"], ["94103"]],
        ),
        (
            [region_part("state", ["17"]), territory_part([3], operation="intersection")],
            '((a."state_fips" = ANY(%s)) AND (a.territory_id = ANY(%s)))',
            [["17"], [3]],
        ),
        (
            [region_part("state", ["17"]), region_part("county", ["17031"], operation="difference")],
            '((a."state_fips" = ANY(%s)) AND NOT (a."county_fips" = ANY(%s)))',
            [["17"], ["17031"]],
        ),
        (
            [
                circle_part(41.88, -87.63, 10),
                region_part("zip", ["60614"]),
                territory_part([3], operation="difference"),
            ],
            f'((({CIRCLE}) OR (a."zip" = ANY(%s))) AND NOT (a.territory_id = ANY(%s)))',
            [
                CellsAround((-87.63, 41.88)),
                CellsAround((-87.63, 41.88), resolution=7),
                *_circle(-87.63, 41.88, 10_000.0),
                ["60614"],
                [3],
            ],
        ),
    ],
)
def test_target_condition(parts: list[Part], expected_sql: str, expected_params: list) -> None:
    condition, params = target_condition(parts, branches=BRANCHES)
    assert _text(condition) == expected_sql
    assert params == expected_params
    assert expected_sql.count("%s") == len(params)


def test_a_drawn_polygon_is_tested_on_its_great_circle_edges() -> None:
    part = polygon_part(shapely.from_wkt(SQUARE))
    condition, params = target_condition([part])
    assert _text(condition) == f"({POLYGON})"
    interior = CellsAround((-87.5, 41.5), resolution=7)
    assert params == [CellsAround(*SQUARE_CORNERS), interior, part.wkt, 500.0, part.wkt, 500.0]


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([], "The target is empty: draw a shape, give a circle or pick regions."),
        ([Part("hexagon")], "Unknown target part 'hexagon'."),
        ([region_part("state", ["17"]), Part("hexagon")], "Unknown target part 'hexagon'."),
    ],
)
def test_target_condition_refuses(parts: list[Part], message: str) -> None:
    with pytest.raises(CampaignError) as raised:
        target_condition(parts)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(), [CONSENT, AT_LEAST_REGION]),
        (
            Filters(segments=("SMB",), industries=("Retail", "Energy"), statuses=("customer",)),
            [
                ("Segment", 'a."segment" = ANY(%s)', [["SMB"]]),
                ("Industry", 'a."industry" = ANY(%s)', [["Retail", "Energy"]]),
                ("Status", 'a."status" = ANY(%s)', [["customer"]]),
                CONSENT,
                AT_LEAST_REGION,
            ],
        ),
        (
            Filters(revenue_min=1_000.0),
            [
                ("Revenue band", "coalesce(a.annual_revenue, 0) BETWEEN %s AND %s", [1_000.0, 1e18]),
                CONSENT,
                AT_LEAST_REGION,
            ],
        ),
        (
            Filters(revenue_max=5_000.0),
            [
                ("Revenue band", "coalesce(a.annual_revenue, 0) BETWEEN %s AND %s", [0, 5_000.0]),
                CONSENT,
                AT_LEAST_REGION,
            ],
        ),
        (
            Filters(revenue_min=0.0, revenue_max=0.0),
            [
                ("Revenue band", "coalesce(a.annual_revenue, 0) BETWEEN %s AND %s", [0, 0.0]),
                CONSENT,
                AT_LEAST_REGION,
            ],
        ),
        (
            Filters(last_order_after=date(2025, 1, 1), last_order_before=date(2025, 4, 1)),
            [
                ("Last order after", f"{LAST_ORDER} > %s", [date(2025, 1, 1)]),
                ("Last order before", f"coalesce({LAST_ORDER} < %s, true)", [date(2025, 4, 1)]),
                CONSENT,
                AT_LEAST_REGION,
            ],
        ),
        (
            Filters(no_visit_days=30),
            [("No visit in 30 days", NO_VISIT, [NOW, 30]), CONSENT, AT_LEAST_REGION],
        ),
        (
            Filters(min_precision="street"),
            [CONSENT, ("Geocode too coarse", PRECISE, [["street", "rooftop", "given", "manual"]])],
        ),
        (
            Filters(min_precision="none"),
            [
                CONSENT,
                (
                    "Geocode too coarse",
                    PRECISE,
                    [["none", "region", "city", "postal", "street", "rooftop", "given", "manual"]],
                ),
            ],
        ),
        (
            Filters(statuses=("prospect",), revenue_max=10.0, no_visit_days=7, min_precision="manual"),
            [
                ("Status", 'a."status" = ANY(%s)', [["prospect"]]),
                ("Revenue band", "coalesce(a.annual_revenue, 0) BETWEEN %s AND %s", [0, 10.0]),
                ("No visit in 7 days", NO_VISIT, [NOW, 7]),
                CONSENT,
                ("Geocode too coarse", PRECISE, [["given", "manual"]]),
            ],
        ),
    ],
)
def test_filter_stages(filters: Filters, expected: list[tuple[str, str, list]]) -> None:
    with clock.pinned(NOW):
        stages = filter_stages(filters)
    assert [(label, _text(condition), params) for label, condition, params in stages] == expected
    assert all(text.count("%s") == len(params) for _label, text, params in expected)


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        (0, 'count(*) FILTER (WHERE a."stage_0")'),
        (
            2,
            'count(*) FILTER (WHERE a."stage_0"), count(*) FILTER (WHERE a."stage_1"),'
            ' count(*) FILTER (WHERE a."stage_2")',
        ),
    ],
)
def test_stage_counts(stages: int, expected: str) -> None:
    assert _text(stage_counts(stages)) == expected


GEOGRAPHY = (
    'SELECT a."account_id", a."external_id", a."name", a."status", a."segment", a."industry",'
    ' a."annual_revenue", a."state_fips", a."county_fips", a."zip", a."geom", a."marketing_consent",'
    ' a."name_postal_hash", a."geocode_precision", true AS stage_0'
    " FROM accounts a WHERE a.geom IS NOT NULL AND a.zip = ANY(%s)"
)


def test_the_stages_and_the_member_list_read_only_the_staged_columns() -> None:
    """Only STAGED_COLUMNS travel through the stages: every account column a stage or the
    member list names must be one of them (else the query fails on a missing column)."""
    filters = Filters(
        segments=("SMB",),
        industries=("Retail",),
        statuses=("customer",),
        revenue_min=1.0,
        last_order_after=date(2024, 1, 1),
        last_order_before=date(2025, 1, 1),
        no_visit_days=3,
    )
    with clock.pinned(NOW):
        texts = [_text(condition) for _label, condition, _params in filter_stages(filters)]
    named = set(re.findall(r"\ba\.\"?([a-z_0-9]+)", " ".join([*texts, MEMBER_SELECT])))
    assert named <= set(STAGED_COLUMNS), named - set(STAGED_COLUMNS)
    assert {"segment", "industry", "status", "annual_revenue", "marketing_consent", "external_id"} <= named


@pytest.mark.parametrize(
    ("stages", "expected_sql", "expected_params"),
    [
        ([], GEOGRAPHY, [["60614"]]),
        (
            [("Segment", sql.SQL("a.segment = ANY(%s)"), [["SMB"]])],
            GEOGRAPHY.replace("true AS stage_0", 'true AS stage_0, (a.segment = ANY(%s)) AS "stage_1"'),
            [["SMB"], ["60614"]],
        ),
        (
            [
                ("Segment", sql.SQL("a.segment = ANY(%s)"), [["SMB"]]),
                ("Consent", sql.SQL("a.marketing_consent"), []),
                ("Precise", sql.SQL("a.geocode_precision = ANY(%s)"), [["street"]]),
            ],
            GEOGRAPHY.replace(
                "true AS stage_0",
                'true AS stage_0, (a.segment = ANY(%s)) AS "stage_1",'
                ' (a.segment = ANY(%s)) AND (a.marketing_consent) AS "stage_2",'
                " (a.segment = ANY(%s)) AND (a.marketing_consent) AND (a.geocode_precision = ANY(%s))"
                ' AS "stage_3"',
            ),
            [["SMB"], ["SMB"], ["SMB"], ["street"], ["60614"]],
        ),
        (
            [
                ("Segment", sql.SQL("a.segment = ANY(%s)"), [["SMB"]]),
                ("Visited", sql.SQL("EXISTS (SELECT 1 FROM visits v WHERE v.account_id = a.account_id)"), []),
                ("Precise", sql.SQL("a.geocode_precision = ANY(%s)"), [["street"]]),
            ],
            'SELECT a.*, CASE WHEN a."stage_2" THEN (a.geocode_precision = ANY(%s)) ELSE false END'
            ' AS "stage_3"'
            ' FROM (SELECT a.*, CASE WHEN a."stage_1"'
            " THEN (EXISTS (SELECT 1 FROM visits v WHERE v.account_id = a.account_id)) ELSE false END"
            ' AS "stage_2" FROM ('
            + GEOGRAPHY.replace("true AS stage_0", 'true AS stage_0, (a.segment = ANY(%s)) AS "stage_1"')
            + " OFFSET 0) a OFFSET 0) a",
            [["street"], ["SMB"], ["60614"]],
        ),
    ],
)
def test_staged_query_tests_each_look_up_only_where_the_previous_stages_held(
    stages: list, expected_sql: str, expected_params: list
) -> None:
    """A look-up (a subquery) gets a level of its own, tested where the stages before it held;
    a run of column tests shares one level, each flag the conjunction of the run's tests so far."""
    query, params = staged_query(sql.SQL("a.zip = ANY(%s)"), [["60614"]], stages)
    assert _text(query) == expected_sql
    assert params == expected_params
    assert expected_sql.count("%s") == len(params)


def test_the_waterfall_of_a_real_target_has_one_parameter_per_placeholder() -> None:
    parts = [circle_part(41.88, -87.63, 10), region_part("county", ["17031"], operation="intersection")]
    filters = Filters(segments=("SMB",), revenue_min=1.0, last_order_before=date(2025, 1, 1), no_visit_days=3)
    where, params = target_condition(parts)
    with clock.pinned(NOW):
        query, query_params = staged_query(where, params, filter_stages(filters))
    assert _text(query).count("%s") == len(query_params) == 18
