"""Campaign audiences against PostGIS: equal to brute force on the sphere, consent always honoured."""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from psycopg2 import sql

from geo import clock
from geo.campaigns.audience import audience, waterfall
from geo.campaigns.filters import Filters
from geo.campaigns.queries import target_condition
from geo.campaigns.storage import (
    campaign_members,
    list_campaigns,
    record_responses,
    response_by_region,
    save_campaign,
)
from geo.campaigns.target import circle_part, drawn_parts, polygon_part, region_part, trade_area_part
from geo.config import Settings
from geo.errors import CampaignError
from geo.field.accounts import load_facts
from geo.ingest.geocode import PRECISION_RANK
from geo.places.geodesy import haversine_m
from geo.store.bootstrap import Connections, prepare_database

USER = "marketer@test"
CHICAGO = (41.88, -87.63)


@pytest.fixture(scope="module")
def conns(demo_settings: Settings) -> Iterator[Connections]:
    connections = prepare_database(demo_settings)
    yield connections
    connections.close()


@pytest.fixture(scope="module")
def book(conns) -> pd.DataFrame:
    with conns.owner.transaction(user=USER) as cur:
        cur.execute(
            "SELECT account_id, external_id, ST_X(geom), ST_Y(geom), marketing_consent, status, segment,"
            " state_fips, geocode_precision FROM accounts WHERE geom IS NOT NULL"
        )
        rows = cur.fetchall()
    columns = [
        "account_id",
        "external_id",
        "lon",
        "lat",
        "consent",
        "status",
        "segment",
        "state",
        "precision",
    ]
    return pd.DataFrame(rows, columns=columns)


def _everyone() -> Filters:
    return Filters(min_precision="none")


def _matched(counts: pd.DataFrame) -> int:
    return int(counts.loc[counts["stage"] == "Matched the geography", "count"].item())


def _inside_on_sphere(book: pd.DataFrame, polygon: shapely.Polygon) -> set[int]:
    """Brute force: great-circle edges are straight lines in a gnomonic projection."""
    centre = polygon.centroid
    gnomonic = pyproj.Transformer.from_crs(
        "EPSG:4326", f"+proj=gnom +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84", always_xy=True
    )
    projected = shapely.transform(polygon, lambda xy: np.column_stack(gnomonic.transform(xy[:, 0], xy[:, 1])))
    x, y = gnomonic.transform(book["lon"].to_numpy(), book["lat"].to_numpy())
    inside = shapely.contains_xy(projected, x, y)
    return set(book.loc[inside, "account_id"])


@pytest.mark.parametrize("radius_km", [5, 25, 80])
def test_circle_audience_equals_a_haversine_count(conns, book, radius_km: float) -> None:
    counts = waterfall(conns.app, [circle_part(*CHICAGO, radius_km)], _everyone(), user=USER)
    distances = haversine_m(book["lon"], book["lat"], CHICAGO[1], CHICAGO[0])
    assert _matched(counts) == int((distances <= radius_km * 1000).sum()) > 0


def test_circle_and_ring_audiences_are_served_by_the_spatial_index(conns) -> None:
    """Regression: a bare ``ST_DWithin(a.geom::geography, …)`` read every account (1.3 s at 1M).

    The candidates come from the geometry index or from the index of the shape's H3 cells."""
    with conns.owner.transaction(user=USER) as cur:
        cur.execute("SELECT branch_id, ST_X(geom), ST_Y(geom) FROM branches ORDER BY branch_id LIMIT 2")
        branches = {branch: (lon, lat) for branch, lon, lat in cur.fetchall()}
    targets = [[circle_part(*CHICAGO, 10)], [trade_area_part(list(branches), radius_km=10)]]
    for parts in targets:
        where, params = target_condition(parts, branches=branches)
        with conns.app.transaction(user=USER) as cur:
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute(
                sql.SQL("EXPLAIN SELECT count(*) FROM accounts a WHERE a.geom IS NOT NULL AND {}").format(
                    where
                ),
                params,
            )
            plan = "\n".join(row[0] for row in cur.fetchall())
        assert re.search(r"Index Scan (using|on) accounts_((territory_)?geom|h3_r5)_idx", plan), plan
        assert "Seq Scan on accounts" not in plan, plan


def test_a_managers_drawn_audience_is_found_through_the_cell_index_and_equals_a_brute_force_count(
    planned: tuple[Settings, Connections],
) -> None:
    """Regression: under the scoped policy no geometry test reaches an index (PostGIS's are not
    leakproof), so a manager's county-sized polygon read every account of their region (250,000
    at 1M accounts, 4.4x an admin's time); the leakproof H3 key test now finds the candidates."""
    _settings, planned_conns = planned
    polygon = shapely.Polygon([(-123.0, 33.5), (-116.0, 33.5), (-116.0, 39.0), (-123.0, 39.0)])
    with planned_conns.owner.transaction(user=USER) as cur:
        cur.execute("SELECT set_config('gcrm.user', 'manager', true)")
        cur.execute(
            "SELECT account_id, ST_X(geom), ST_Y(geom) FROM accounts"
            " WHERE geom IS NOT NULL AND territory_id = ANY(gcrm_territories())"
        )
        own = pd.DataFrame(cur.fetchall(), columns=["account_id", "lon", "lat"])
    expected = _inside_on_sphere(own, polygon)
    counts = waterfall(planned_conns.app, [polygon_part(polygon)], _everyone(), user="manager")
    assert _matched(counts) == len(expected) > 0
    downtown = shapely.box(-118.30, 34.00, -118.20, 34.10)
    where, params = target_condition([polygon_part(downtown)])
    with planned_conns.app.transaction(user="manager") as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute(
            sql.SQL("EXPLAIN SELECT count(*) FROM accounts a WHERE a.geom IS NOT NULL AND {}").format(where),
            params,
        )
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert re.search(r"Index Scan on accounts_h3_r5_idx\s+.*\n\s+Index Cond: \(h3_r5 = ANY", plan), plan


@pytest.mark.parametrize(
    "polygon",
    [
        shapely.Polygon([(-88.4, 41.5), (-87.5, 41.5), (-87.5, 42.2), (-88.4, 42.2)]),
        shapely.Polygon(
            [(-88.4, 41.5), (-87.5, 41.5), (-87.5, 42.2), (-87.9, 42.2), (-87.9, 41.8), (-88.4, 41.8)]
        ),
        shapely.Polygon(
            [(-88.4, 41.5), (-87.5, 41.5), (-87.5, 42.2), (-88.4, 42.2)],
            holes=[[(-88.0, 41.7), (-87.7, 41.7), (-87.7, 42.0), (-88.0, 42.0)]],
        ),
        shapely.Polygon([(-124.0, 32.0), (-114.0, 32.0), (-114.0, 42.0), (-124.0, 42.0)]),
    ],
    ids=["rectangle", "concave", "with-hole", "california-sized"],
)
def test_polygon_audience_equals_a_brute_force_count_on_the_sphere(conns, book, polygon) -> None:
    _counts, members = audience(
        conns.app, [polygon_part(polygon)], Filters(min_precision="none", statuses=()), user=USER
    )
    counts = waterfall(conns.app, [polygon_part(polygon)], _everyone(), user=USER)
    expected = _inside_on_sphere(book, polygon)
    assert _matched(counts) == len(expected) > 0
    final = set(members["account_id"])
    assert final <= expected


def test_parts_combine_as_set_algebra(conns, book) -> None:
    near = circle_part(*CHICAGO, 60)
    illinois = region_part("state", ["17"], operation="intersection")
    outside = region_part("state", ["17"], operation="difference")
    both = _matched(waterfall(conns.app, [near, illinois], _everyone(), user=USER))
    rest = _matched(waterfall(conns.app, [near, outside], _everyone(), user=USER))
    whole = _matched(waterfall(conns.app, [near], _everyone(), user=USER))
    distances = haversine_m(book["lon"], book["lat"], CHICAGO[1], CHICAGO[0])
    in_illinois = int(((distances <= 60_000) & (book["state"] == "17")).sum())
    assert both == in_illinois and both + rest == whole and rest > 0


def test_waterfall_stages_add_up_and_the_final_audience_is_what_is_listed(conns) -> None:
    filters = Filters(
        segments=("SMB", "Mid-Market"), statuses=("customer", "prospect"), min_precision="postal"
    )
    counts, members = audience(conns.app, [region_part("state", ["06", "48", "17"])], filters, user=USER)
    matched = _matched(counts)
    removed = counts.loc[counts["stage"] != "Final audience", "removed"].sum()
    final = int(counts.loc[counts["stage"] == "Final audience", "count"].item())
    assert matched - removed == final == len(members) > 0
    assert list(counts["stage"]) == [
        "Matched the geography",
        "Segment",
        "Status",
        "No marketing consent or suppressed",
        "Geocode too coarse",
        "Final audience",
    ]


@pytest.mark.parametrize("seed", range(6))
def test_each_waterfall_stage_counts_the_accounts_that_pass_it_and_every_stage_before(
    conns, book, seed: int
) -> None:
    """Brute force over the book: the column tests share a level of the query (each flag the
    conjunction of its run so far), and every count must still be that of all stages up to it."""
    rng = random.Random(seed)
    segments = sorted(book["segment"].dropna().unique())
    filters = Filters(
        segments=tuple(rng.sample(segments, rng.randint(1, len(segments)))),
        statuses=tuple(rng.sample(["customer", "prospect", "churned"], rng.randint(1, 3))),
        min_precision=rng.choice(["none", "city", "postal", "street"]),
    )
    counts = waterfall(conns.app, [region_part("state", ["06", "48", "17"])], filters, user=USER)
    kept = book[book["state"].isin(["06", "48", "17"])]
    expected = [len(kept)]
    for values, column in ((filters.segments, "segment"), (filters.statuses, "status")):
        if values:
            kept = kept[kept[column].isin(values)]
            expected.append(len(kept))
    kept = kept[kept["consent"].fillna(False).astype(bool)]
    expected.append(len(kept))
    kept = kept[kept["precision"].map(PRECISION_RANK) >= PRECISION_RANK[filters.min_precision]]
    expected += [len(kept), len(kept)]
    assert counts["count"].tolist() == expected, (filters, counts)


def test_no_audience_ever_holds_an_account_without_consent_or_suppressed(conns, book) -> None:
    consented = book[book["consent"]]
    suppressed = consented.iloc[0]["external_id"]
    digest = hashlib.sha256(suppressed.lower().encode()).hexdigest()
    with conns.owner.transaction(user=USER) as cur:
        cur.execute(
            "INSERT INTO suppression_list (identifier_hash, reason) VALUES (%s, 'objected')", (digest,)
        )
    rng = random.Random(11)
    segments = sorted(book["segment"].dropna().unique())
    try:
        for _ in range(25):
            filters = Filters(
                segments=tuple(rng.sample(segments, rng.randint(0, len(segments)))),
                statuses=tuple(rng.sample(["customer", "prospect", "churned"], rng.randint(0, 3))),
                revenue_min=rng.choice([None, 0.0, 1e6]),
                min_precision=rng.choice(["none", "city", "postal"]),
            )
            parts = [circle_part(*CHICAGO, rng.choice([20, 100, 400])), region_part("state", ["06"])]
            _counts, members = audience(conns.app, parts, filters, user=USER)
            listed = book.set_index("account_id").loc[members["account_id"]]
            assert listed["consent"].all()
            assert suppressed not in set(members["external_id"])
    finally:
        with conns.owner.transaction(user=USER) as cur:
            cur.execute("DELETE FROM suppression_list WHERE identifier_hash = %s", (digest,))


@pytest.mark.parametrize("days", [30, 200])
def test_no_visit_filter_equals_a_scan_of_the_visits(conns, days: int) -> None:
    filters = Filters(no_visit_days=days, min_precision="none")
    counts, _members = audience(conns.app, [region_part("state", ["06", "48"])], filters, user=USER)
    with conns.owner.transaction(user=USER) as cur:
        cur.execute(
            "SELECT count(*) FROM accounts a WHERE a.geom IS NOT NULL AND a.state_fips IN ('06', '48')"
            " AND NOT EXISTS (SELECT 1 FROM interactions i WHERE i.account_id = a.account_id"
            " AND i.kind = 'visit' AND i.occurred_at > %s::timestamptz - make_interval(days => %s))",
            (clock.now(), days),
        )
        expected = cur.fetchone()[0]
    stage = counts.loc[counts["stage"] == f"No visit in {days} days", "count"].iloc[0]
    matched = counts.loc[counts["stage"] == "Matched the geography", "count"].iloc[0]
    assert stage == expected < matched


def test_saved_campaign_keeps_a_snapshot_exports_consented_members_and_reports_responses(conns, book) -> None:
    parts = [circle_part(*CHICAGO, 40)]
    campaign, size = save_campaign(
        conns.app, "Chicago spring", parts, _everyone(), user=USER, cost_per_member=2.5
    )
    assert size > 10 and campaign > 0
    with pytest.raises(CampaignError, match="exists"):
        save_campaign(conns.app, "Chicago spring", parts, _everyone(), user=USER)
    members = campaign_members(conns.app, "Chicago spring", user=USER)
    assert len(members) == size
    with conns.owner.transaction(user=USER) as cur:
        cur.execute(
            "UPDATE accounts SET marketing_consent = false WHERE external_id = %s",
            (members.iloc[0]["external_id"],),
        )
    assert len(campaign_members(conns.app, "Chicago spring", user=USER)) == size - 1
    responses = pd.DataFrame(
        {
            "external_id": [members.iloc[1]["external_id"], members.iloc[2]["external_id"], "not-a-member"],
            "kind": ["response", "conversion", "response"],
            "revenue": [None, 1000.0, None],
        }
    )
    assert record_responses(conns.app, "Chicago spring", responses, user=USER) == {
        "recorded": 2,
        "rejected": 1,
    }
    table = response_by_region(conns.app, "Chicago spring", user=USER)
    assert (
        table["members"].sum() == size and table["responses"].sum() == 2 and table["conversions"].sum() == 1
    )
    assert table["revenue"].sum() == 1000.0 and table["cost"].sum() == pytest.approx(2.5 * size)
    listed = list_campaigns(conns.app, user=USER).set_index("name").loc["Chicago spring"]
    assert (listed["members"], listed["responses"], listed["conversions"]) == (size, 1, 1)
    with conns.owner.transaction(user=USER) as cur:
        cur.execute(
            "UPDATE accounts SET marketing_consent = true WHERE external_id = %s",
            (members.iloc[0]["external_id"],),
        )
        cur.execute("DELETE FROM campaigns")


RECORDED_POLYGON = {
    "last_clicked": None,
    "all_drawings": [
        {
            "type": "Feature",
            "properties": {},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[-88.2, 41.7], [-87.6, 41.7], [-87.7, 42.1], [-88.1, 42.0], [-88.2, 41.7]]],
            },
        }
    ],
    "last_active_drawing": None,
}
RECORDED_RECTANGLE = {
    "all_drawings": [
        {
            "type": "Feature",
            "properties": {},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[-88.0, 41.8], [-88.0, 42.0], [-87.7, 42.0], [-87.7, 41.8], [-88.0, 41.8]]],
            },
        }
    ]
}
RECORDED_CIRCLE = {
    "all_drawings": [
        {
            "type": "Feature",
            "properties": {"radius": 12500.0},
            "geometry": {"type": "Point", "coordinates": [-87.63, 41.88]},
        }
    ],
    "last_circle_radius": 12.5,
}
RECORDED_EDITED = {
    "all_drawings": [
        RECORDED_RECTANGLE["all_drawings"][0],
        {
            "type": "Feature",
            "properties": {},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[-88.0, 41.8], [-87.5, 42.1], [-87.5, 41.8], [-88.0, 42.1], [-88.0, 41.8]]],
            },
        },
        {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
        },
    ]
}


def test_drawn_polygon_rectangle_and_circle_become_parts() -> None:
    polygon, problems = drawn_parts(RECORDED_POLYGON)
    assert problems == [] and [p.kind for p in polygon] == ["polygon"]
    assert shapely.from_wkt(polygon[0].wkt).bounds == (-88.2, 41.7, -87.6, 42.1)
    rectangle, _ = drawn_parts(RECORDED_RECTANGLE)
    assert shapely.from_wkt(rectangle[0].wkt).area == pytest.approx(0.06)
    circle, _ = drawn_parts(RECORDED_CIRCLE)
    assert (circle[0].kind, circle[0].lon, circle[0].lat, circle[0].radius_m) == (
        "circle",
        -87.63,
        41.88,
        12_500.0,
    )


def test_edited_shapes_are_repaired_and_unusable_ones_explained() -> None:
    parts, problems = drawn_parts(RECORDED_EDITED)
    assert [p.kind for p in parts] == ["polygon", "polygon"]
    assert shapely.from_wkt(parts[1].wkt).is_valid
    assert problems == [
        "Shape 3: The shape encloses no area: draw a polygon, a rectangle or a circle, not a line or point."
    ]


def test_nothing_drawn_gives_no_parts() -> None:
    assert drawn_parts(None) == ([], [])
    assert drawn_parts({"all_drawings": None}) == ([], [])
    assert drawn_parts({"all_drawings": []}) == ([], [])


def test_a_nearest_branch_target_holds_the_cubes_trade_areas(conns) -> None:
    """One home for the nearest branch: a campaign's trade areas are the cube's ``trade_area`` members."""
    trade_area = load_facts(conns.app, user=USER).accounts["trade_area"]
    for chosen in ([1], [2, 5, 7], list(range(1, 40))):
        counted = waterfall(conns.app, [trade_area_part(chosen)], _everyone(), user=USER)
        assert _matched(counted) == int(trade_area.isin(chosen).sum()) > 0


def test_trade_area_targets_equal_rings_and_nearest_branches_on_the_sphere(conns, book) -> None:
    with conns.owner.transaction(user=USER) as cur:
        cur.execute("SELECT branch_id, ST_X(geom), ST_Y(geom) FROM branches ORDER BY branch_id")
        branches = pd.DataFrame(cur.fetchall(), columns=["branch_id", "lon", "lat"])
    first = branches.iloc[0]
    ring = waterfall(
        conns.app, [trade_area_part([int(first["branch_id"])], radius_km=50)], _everyone(), user=USER
    )
    distances = haversine_m(book["lon"], book["lat"], first["lon"], first["lat"])
    assert _matched(ring) == int((distances <= 50_000).sum()) > 0
    matrix = haversine_m(
        book["lon"].to_numpy()[:, None],
        book["lat"].to_numpy()[:, None],
        branches["lon"].to_numpy()[None, :],
        branches["lat"].to_numpy()[None, :],
    )
    nearest = branches["branch_id"].to_numpy()[matrix.argmin(axis=1)]
    chosen = [int(b) for b in branches["branch_id"].head(3)]
    counted = waterfall(conns.app, [trade_area_part(chosen)], _everyone(), user=USER)
    assert _matched(counted) == int(np.isin(nearest, chosen).sum()) > 0
    with pytest.raises(CampaignError, match="at least one branch"):
        trade_area_part([])
