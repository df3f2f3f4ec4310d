"""Geo campaigns: a target made of shapes, regions and territories, filters, and an explained audience.

A target is a sequence of parts combined left to right by union, intersection or
difference. Each part is an exact test on an account — a circle measured on the sphere, a
polygon with great-circle edges (densified along the great circles, then tested on the
planar index), equality on a stored region key, a territory, a branch's trade area (a ring
on the sphere, or the accounts nearest to it) — so combining parts is set
algebra on accounts and never loses precision.

The audience is explained as a waterfall: the accounts the geography matches, minus those
each filter removes, minus those without marketing consent or on the suppression list,
minus those placed too coarsely, gives the final audience. Only the final audience is ever
exported.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg2.extensions
import shapely
from psycopg2 import sql

from geo import clock
from geo.choices import match_choices, parse_where, spellings_of
from geo.errors import CampaignError, GcrmError
from geo.ingest.geocode import PRECISION_RANK
from geo.places.shapes import circle, target_geometry, validate_polygons
from geo.store.db import Database, copy_out

OPERATIONS = ("union", "intersection", "difference")
GREAT_CIRCLE_STEP_M = 500.0
"""Polygon edges are cut into great-circle steps this long, so a planar test on the indexed
``geom`` follows the sphere (the chord of a 500 m arc strays from it by well under a millimetre)."""
REGION_KEYS = {"state": "state_fips", "county": "county_fips", "zip": "zip"}
CONTACTABLE = (
    "a.marketing_consent AND gcrm_identifier_hash(a.external_id)"
    " NOT IN (SELECT s.identifier_hash FROM suppression_list s)"
    " AND coalesce(a.name_postal_hash, '') NOT IN (SELECT s.identifier_hash FROM suppression_list s)"
)
"""SQL condition (on alias ``a``): the account gave marketing consent and is suppressed by none
of its identities (external id, name and postal code)."""
MEMBER_SELECT = (
    "SELECT a.account_id, a.external_id, a.name, a.status, a.segment, a.industry, a.state_fips,"
    " a.county_fips, a.zip, ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat"
)
MEMBER_TYPES = {
    "account_id": "int64",
    "external_id": "string",
    "name": "string",
    "status": "string",
    "segment": "string",
    "industry": "string",
    "state_fips": "string",
    "county_fips": "string",
    "zip": "string",
    "lon": "float64",
    "lat": "float64",
}


@dataclass(frozen=True)
class Part:
    """One piece of a target.

    Attributes
    ----------
    kind
        ``circle``, ``polygon``, ``region``, ``territory`` or ``trade_area``.
    operation
        How it combines with the parts before it: ``union``, ``intersection``, ``difference``.
    lon, lat, radius_m
        For a circle (and ``radius_m`` for a ring trade area).
    wkt
        For a polygon: a validated (Multi)Polygon in WKT.
    level, codes
        For a region: ``state``/``county``/``zip`` and its keys; for a territory or a trade
        area: territory or branch ids.
    """

    kind: str
    operation: str = "union"
    lon: float | None = None
    lat: float | None = None
    radius_m: float | None = None
    wkt: str | None = None
    level: str | None = None
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Filters:
    """Audience filters; empty ones keep everything.

    Attributes
    ----------
    segments, industries, statuses
        Allowed values.
    revenue_min, revenue_max
        Band of the account's annual revenue.
    last_order_after, last_order_before
        Bounds of the date of the account's latest won order.
    no_visit_days
        Keep accounts not visited in this many days.
    min_precision
        Lowest geocode precision kept (see :data:`geo.ingest.geocode.PRECISION_RANK`).
    """

    segments: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    revenue_min: float | None = None
    revenue_max: float | None = None
    last_order_after: date | None = None
    last_order_before: date | None = None
    no_visit_days: int | None = None
    min_precision: str = "region"


def circle_part(lat: float, lon: float, radius_km: float, *, operation: str = "union") -> Part:
    """A circle of ``radius_km`` on the ground (validated).

    Parameters
    ----------
    lat, lon
        Centre in degrees.
    radius_km
        Radius in kilometres.
    operation
        How it combines with the parts before it.

    Returns
    -------
    Part
        The circle.
    """
    circle(lon, lat, radius_km * 1000)
    return Part("circle", _operation(operation), lon=float(lon), lat=float(lat), radius_m=radius_km * 1000)


def polygon_part(geometry: shapely.Geometry, *, operation: str = "union") -> Part:
    """A drawn or uploaded polygon (repaired or refused, see :mod:`geo.places.shapes`).

    Parameters
    ----------
    geometry
        Any shapely geometry in degrees.
    operation
        How it combines with the parts before it.

    Returns
    -------
    Part
        The polygon.
    """
    return Part("polygon", _operation(operation), wkt=validate_polygons(geometry).wkt)


def region_part(level: str, codes: list[str], *, operation: str = "union") -> Part:
    """States, counties or ZIPs by their keys.

    Parameters
    ----------
    level
        ``state``, ``county`` or ``zip``.
    codes
        FIPS codes or ZIPs.
    operation
        How it combines with the parts before it.

    Returns
    -------
    Part
        The regions.
    """
    if level not in REGION_KEYS:
        msg = f"Unknown region level {level!r}; choose state, county or zip."
        raise CampaignError(msg)
    width = {"state": 2, "county": 5, "zip": 5}[level]
    cleaned = tuple(sorted({c.strip().zfill(width) for c in codes if c.strip()}))
    if not cleaned or not all(c.isdigit() and len(c) == width for c in cleaned):
        msg = f"Region codes for {level} are {width}-digit numbers, got {', '.join(codes) or 'none'}."
        raise CampaignError(msg)
    return Part("region", _operation(operation), level=level, codes=cleaned)


def trade_area_part(
    branch_ids: list[int], *, radius_km: float | None = None, operation: str = "union"
) -> Part:
    """Branches' trade areas: a ring of ``radius_km`` around each, or (None) the accounts nearest to them.

    Parameters
    ----------
    branch_ids
        Branch ids.
    radius_km
        Ring radius on the ground; None for the nearest-branch (Voronoi) trade areas.
    operation
        How it combines with the parts before it.

    Returns
    -------
    Part
        The trade areas.
    """
    if not branch_ids:
        msg = "Pick at least one branch for a trade-area target."
        raise CampaignError(msg)
    if radius_km is not None and not 0 < radius_km <= 1000:
        msg = f"Ring radius {radius_km} km: use more than 0 and at most 1,000 km."
        raise CampaignError(msg)
    return Part(
        "trade_area",
        _operation(operation),
        radius_m=None if radius_km is None else radius_km * 1000,
        codes=tuple(str(int(b)) for b in branch_ids),
    )


def territory_part(territory_ids: list[int], *, operation: str = "union") -> Part:
    """Accounts of territories (as the active plan assigns them).

    Parameters
    ----------
    territory_ids
        Territory ids.
    operation
        How it combines with the parts before it.

    Returns
    -------
    Part
        The territories.
    """
    return Part("territory", _operation(operation), codes=tuple(str(int(t)) for t in territory_ids))


def drawn_parts(returned: dict | None) -> tuple[list[Part], list[str]]:
    """Turn what ``st_folium`` returns for a map with a draw control into target parts.

    Polygons and rectangles arrive as GeoJSON polygons; circles as a point whose
    ``properties.radius`` is in metres (streamlit-folium adds it), built here on the ground.
    Edited shapes arrive in their new form in ``all_drawings``.

    Parameters
    ----------
    returned
        The dict ``st_folium(..., returned_objects=["all_drawings"])`` gives back.

    Returns
    -------
    tuple
        Parts (all united), and a reason for each drawing that could not be used.
    """
    parts: list[Part] = []
    problems: list[str] = []
    for number, feature in enumerate((returned or {}).get("all_drawings") or [], start=1):
        geometry = (feature or {}).get("geometry") or {}
        radius = ((feature or {}).get("properties") or {}).get("radius")
        try:
            if geometry.get("type") == "Point" and radius is not None:
                lon, lat = geometry["coordinates"][:2]
                parts.append(circle_part(float(lat), float(lon), float(radius) / 1000))
            else:
                parts.append(polygon_part(target_geometry(geometry)))
        except GcrmError as exc:
            problems.append(f"Shape {number}: {exc}")
    return parts, problems


FILTER_LISTS = {"segment": "segments", "industry": "industries", "status": "statuses"}
"""Filter field → the :class:`Filters` attribute holding its allowed values (read from the book)."""
FILTER_FIELDS = (
    *FILTER_LISTS,
    "revenue_min",
    "revenue_max",
    "last_order_after",
    "last_order_before",
    "no_visit_days",
    "min_precision",
)


def parse_filters(items: list[str]) -> Filters:
    """Read the ``FIELD=VALUE`` filters of the CLI (see :func:`geo.choices.parse_where`).

    Fields: ``segment``, ``industry``, ``status`` (comma-separated values, matched against the
    book by :func:`match_filters`), ``revenue_min``, ``revenue_max``, ``last_order_after``,
    ``last_order_before`` (YYYY-MM-DD), ``no_visit_days`` and ``min_precision``.

    Parameters
    ----------
    items
        As typed.

    Returns
    -------
    Filters
        The filters, list values as typed.
    """
    values: dict = {}
    for name, typed in parse_where(items, FILTER_FIELDS).items():
        if name in FILTER_LISTS:
            values[FILTER_LISTS[name]] = tuple(typed)
            continue
        if len(typed) > 1:
            msg = f"--where {name}: takes one value, got {', '.join(typed)}."
            raise CampaignError(msg)
        values[name] = _filter_value(name, typed[0])
    return Filters(**values)


def _filter_value(name: str, text: str) -> float | int | date | str:
    try:
        if name in ("revenue_min", "revenue_max"):
            return float(text)
        if name in ("last_order_after", "last_order_before"):
            return date.fromisoformat(text)
        if name == "no_visit_days":
            return int(text)
    except ValueError as exc:
        msg = f"--where {name}={text}: {exc}."
        raise CampaignError(msg) from exc
    return match_choices(name, [text], spellings_of(PRECISION_RANK))[0]


def filter_choices(db: Database, *, user: str) -> dict[str, list[str]]:
    """The segments, industries and statuses the accounts a user sees hold: what filters offer.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    dict
        ``segment``, ``industry``, ``status`` → sorted distinct values (missing ones left out).
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT array_agg(DISTINCT segment ORDER BY segment) FILTER (WHERE segment IS NOT NULL),"
            " array_agg(DISTINCT industry ORDER BY industry) FILTER (WHERE industry IS NOT NULL),"
            " array_agg(DISTINCT status ORDER BY status) FILTER (WHERE status IS NOT NULL)"
            " FROM accounts"
        )
        row = cur.fetchone()
    return {field: list(values or []) for field, values in zip(FILTER_LISTS, row, strict=True)}


def match_filters(filters: Filters, choices: dict[str, list[str]]) -> Filters:
    """Give typed segments, industries and statuses the book's spelling, matched without regard to case.

    Parameters
    ----------
    filters
        Filters as typed.
    choices
        What the book holds, as :func:`filter_choices` gives.

    Returns
    -------
    Filters
        The same filters in the book's spelling; a value the book does not hold raises
        :class:`geo.errors.InvalidChoice`, which lists the valid ones.
    """
    matched = {
        attribute: tuple(match_choices(field, getattr(filters, attribute), spellings_of(choices[field])))
        for field, attribute in FILTER_LISTS.items()
        if getattr(filters, attribute)
    }
    return replace(filters, **matched)


def audience(
    db: Database, parts: list[Part], filters: Filters, *, user: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Count the waterfall of a target and list the final audience.

    Parameters
    ----------
    db
        The database.
    parts
        The target, combined left to right.
    filters
        The filters.
    user
        The acting user.

    Returns
    -------
    tuple of DataFrame
        The waterfall (``stage, count``), and the final members (account, names, keys, lon/lat).
    """
    with db.transaction(user=user) as cur:
        counts = _stage_audience(cur, parts, filters)
        members = copy_out(cur, "SELECT * FROM audience_stage ORDER BY account_id", types=MEMBER_TYPES)
    return counts, members


def _stage_audience(cur: psycopg2.extensions.cursor, parts: list[Part], filters: Filters) -> pd.DataFrame:
    """Count the waterfall and keep the final audience in ``audience_stage``, in one statement.

    One statement is one snapshot: the final count always equals the members staged, however
    the book changes meanwhile. The temporary table lives until the transaction ends.
    """
    where, params = target_condition(parts)
    stages = filter_stages(filters)
    staged, staged_params = _staged_query(where, params, stages)
    cur.execute(
        "DROP TABLE IF EXISTS pg_temp.audience_stage;"
        " CREATE TEMP TABLE audience_stage ON COMMIT DROP AS "
        + MEMBER_SELECT
        + " FROM accounts a WITH NO DATA"
    )
    flags = sql.SQL(", ").join(sql.Identifier(f"stage_{number}") for number in range(len(stages) + 1))
    members = sql.SQL(", ").join(sql.Identifier(column) for column in MEMBER_TYPES)
    query = sql.SQL(
        "WITH staged AS MATERIALIZED (" + MEMBER_SELECT + ", {flags} FROM ({staged} OFFSET 0) a),"
        " kept AS (INSERT INTO audience_stage SELECT {members} FROM staged WHERE {final})"
        " SELECT {counts} FROM staged a"
    ).format(
        flags=flags,
        staged=staged,
        members=members,
        final=sql.Identifier(f"stage_{len(stages)}"),
        counts=_stage_counts(len(stages)),
    )
    cur.execute(query, staged_params)
    return _waterfall_frame([label for label, _condition, _params in stages], list(cur.fetchone()))


def waterfall(db: Database, parts: list[Part], filters: Filters, *, user: str) -> pd.DataFrame:
    """Count each stage of the audience in one query.

    Parameters
    ----------
    db
        The database.
    parts
        The target.
    filters
        The filters.
    user
        The acting user.

    Returns
    -------
    DataFrame
        ``stage, count, removed``: "Matched the geography", one row per filter that is set,
        "No marketing consent or suppressed", "Geocode too coarse", "Final audience".
    """
    where, params = target_condition(parts)
    stages = filter_stages(filters)
    staged, query_params = _staged_query(where, params, stages)
    query = sql.SQL("SELECT {} FROM ({} OFFSET 0) a").format(_stage_counts(len(stages)), staged)
    with db.transaction(user=user) as cur:
        cur.execute(query, query_params)
        counts = list(cur.fetchone())
    return _waterfall_frame([label for label, _condition, _params in stages], counts)


def _waterfall_frame(labels: list[str], counts: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame({"stage": ["Matched the geography", *labels], "count": counts})
    frame["removed"] = (-frame["count"].diff()).fillna(0).astype(int)
    final = pd.DataFrame({"stage": ["Final audience"], "count": [counts[-1]], "removed": [0]})
    return pd.concat([frame, final], ignore_index=True)


def _stage_counts(stages: int) -> sql.Composable:
    """``count(*)`` of the accounts left after each stage (on alias ``a``)."""
    return sql.SQL(", ").join(
        sql.SQL("count(*) FILTER (WHERE a.{})").format(sql.Identifier(f"stage_{number}"))
        for number in range(stages + 1)
    )


def _staged_query(
    where: sql.Composable, params: list, stages: list[tuple[str, sql.Composable, list]]
) -> tuple[sql.Composable, list]:
    """Flag the accounts left after each stage (``stage_0`` …), testing each stage once per survivor.

    Every stage is a boolean column of its own subquery level (kept apart by ``OFFSET 0``),
    tested only where the previous stages held: the costly tests (suppression hashes, order
    and visit look-ups) never run for accounts an earlier filter removed, nor twice.
    """
    query = sql.SQL("SELECT a.*, true AS stage_0 FROM accounts a WHERE a.geom IS NOT NULL AND {}").format(
        where
    )
    query_params = list(params)
    for number, (_label, condition, condition_params) in enumerate(stages, 1):
        query = sql.SQL(
            "SELECT a.*, CASE WHEN a.{previous} THEN ({condition}) ELSE false END AS {current}"
            " FROM ({inner} OFFSET 0) a"
        ).format(
            previous=sql.Identifier(f"stage_{number - 1}"),
            condition=condition,
            current=sql.Identifier(f"stage_{number}"),
            inner=query,
        )
        query_params = [*condition_params, *query_params]
    return query, query_params


def target_condition(parts: list[Part]) -> tuple[sql.Composable, list]:
    """Build the SQL condition (on alias ``a``) an account meets when the target holds it.

    Parameters
    ----------
    parts
        The target, combined left to right.

    Returns
    -------
    tuple
        The condition and its parameters.
    """
    if not parts:
        msg = "The target is empty: draw a shape, give a circle or pick regions."
        raise CampaignError(msg)
    condition, params = _part_condition(parts[0])
    for part in parts[1:]:
        piece, piece_params = _part_condition(part)
        glue = {"union": "({}) OR ({})", "intersection": "({}) AND ({})", "difference": "({}) AND NOT ({})"}
        condition = sql.SQL(glue[part.operation]).format(condition, piece)
        params = [*params, *piece_params]
    return sql.SQL("({})").format(condition), params


def filter_stages(filters: Filters) -> list[tuple[str, sql.Composable, list]]:
    """The waterfall's stages after the geography: each set filter, consent, precision.

    Parameters
    ----------
    filters
        The filters.

    Returns
    -------
    list of tuple
        ``(label, condition, params)`` in waterfall order; conditions are on alias ``a``.
    """
    stages: list[tuple[str, sql.Composable, list]] = []
    for label, column, values in (
        ("Segment", "segment", filters.segments),
        ("Industry", "industry", filters.industries),
        ("Status", "status", filters.statuses),
    ):
        if values:
            stages.append((label, sql.SQL("a.{} = ANY(%s)").format(sql.Identifier(column)), [list(values)]))
    if filters.revenue_min is not None or filters.revenue_max is not None:
        stages.append(
            (
                "Revenue band",
                sql.SQL("coalesce(a.annual_revenue, 0) BETWEEN %s AND %s"),
                [filters.revenue_min or 0, filters.revenue_max if filters.revenue_max is not None else 1e18],
            )
        )
    last_order = sql.SQL(
        "(SELECT max(o.order_date) FROM orders o WHERE o.account_id = a.account_id AND o.stage = 'won')"
    )
    if filters.last_order_after is not None:
        stages.append(("Last order after", sql.SQL("{} > %s").format(last_order), [filters.last_order_after]))
    if filters.last_order_before is not None:
        stages.append(
            (
                "Last order before",
                sql.SQL("coalesce({} < %s, true)").format(last_order),
                [filters.last_order_before],
            )
        )
    if filters.no_visit_days is not None:
        stages.append(
            (
                f"No visit in {filters.no_visit_days} days",
                sql.SQL(
                    "NOT EXISTS (SELECT 1 FROM account_last_visits v WHERE v.account_id = a.account_id"
                    " AND v.last_visit_at > %s::timestamptz - make_interval(days => %s))"
                ),
                [clock.now(), int(filters.no_visit_days)],
            )
        )
    stages.append(
        (
            "No marketing consent or suppressed",
            sql.SQL(CONTACTABLE),
            [],
        )
    )
    good_enough = [p for p, rank in PRECISION_RANK.items() if rank >= PRECISION_RANK[filters.min_precision]]
    stages.append(("Geocode too coarse", sql.SQL("a.geocode_precision = ANY(%s)"), [good_enough]))
    return stages


def target_shape(parts: list[Part]) -> shapely.Geometry:
    """The drawn part of a target as one geometry, for maps (regions and territories not drawn).

    Parameters
    ----------
    parts
        The target.

    Returns
    -------
    shapely.Geometry
        Union, intersection and difference of the circles and polygons, in order.
    """
    shape: shapely.Geometry = shapely.Polygon()
    for part in parts:
        if part.kind == "circle":
            piece = circle(part.lon, part.lat, part.radius_m)
        elif part.kind == "polygon":
            piece = shapely.from_wkt(part.wkt)
        else:
            continue
        combine = {
            "union": shapely.union,
            "intersection": shapely.intersection,
            "difference": shapely.difference,
        }
        shape = (
            piece if shape.is_empty and part.operation == "union" else combine[part.operation](shape, piece)
        )
    return shape


def audience_by_region(members: pd.DataFrame, level: str) -> pd.DataFrame:
    """Count audience members per region.

    Parameters
    ----------
    members
        As :func:`audience` lists them.
    level
        ``state``, ``county`` or ``zip``.

    Returns
    -------
    DataFrame
        ``key, audience``, largest first.
    """
    counts = members.groupby(REGION_KEYS[level]).size().rename("audience").rename_axis("key").reset_index()
    return counts.sort_values(["audience", "key"], ascending=[False, True], ignore_index=True)


def members_geojson(members: pd.DataFrame) -> str:
    """Write audience members as a GeoJSON FeatureCollection of points.

    Parameters
    ----------
    members
        As :func:`audience` lists them.

    Returns
    -------
    str
        GeoJSON text.
    """
    frame = gpd.GeoDataFrame(
        members.drop(columns=["account_id", "lon", "lat"]),
        geometry=gpd.points_from_xy(members["lon"], members["lat"]),
        crs="EPSG:4326",
    )
    return frame.to_json(drop_id=True, na="null")


def save_campaign(
    db: Database, name: str, parts: list[Part], filters: Filters, *, user: str, cost_per_member: float = 0.0
) -> tuple[int, int]:
    """Save a campaign with its target, filters and a timestamped snapshot of its members.

    Parameters
    ----------
    db
        The database.
    name
        Unique name.
    parts, filters
        The audience definition.
    user
        The acting user.
    cost_per_member
        What reaching one member costs, for ROI.

    Returns
    -------
    tuple of int
        Campaign id and number of members.
    """
    if not name.strip():
        msg = "Give the campaign a name."
        raise CampaignError(msg)
    shape = target_shape(parts)
    definition = {"target": [asdict(p) for p in parts], "filters": _jsonable(filters)}
    with db.transaction(user=user) as cur:
        cur.execute("SELECT 1 FROM campaigns WHERE name = %s", (name.strip(),))
        if cur.fetchone():
            msg = f"A campaign named {name.strip()!r} exists; pick another name."
            raise CampaignError(msg)
        _stage_audience(cur, parts, filters)
        cur.execute(
            "INSERT INTO campaigns (name, geom, filters, created_by, cost_per_member)"
            " VALUES (%s, CASE WHEN %s THEN NULL ELSE ST_Multi(ST_GeomFromText(%s, 4326)) END, %s, %s, %s)"
            " RETURNING campaign_id",
            (name.strip(), shape.is_empty, shape.wkt, json.dumps(definition), user, cost_per_member),
        )
        campaign = cur.fetchone()[0]
        members = _store_members(cur, campaign)
    return campaign, members


def _store_members(cur: psycopg2.extensions.cursor, campaign: int) -> int:
    """Snapshot the staged audience (see :func:`_stage_audience`) as the campaign's members."""
    cur.execute(
        "INSERT INTO campaign_members (campaign_id, account_id) SELECT %s, account_id FROM audience_stage",
        (campaign,),
    )
    return cur.rowcount


def list_campaigns(db: Database, *, user: str) -> pd.DataFrame:
    """List saved campaigns with their member and response counts.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    DataFrame
        ``campaign_id, name, members, responses, conversions, created_by, created_at``.
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT c.campaign_id, c.name,"
            " (SELECT count(*) FROM campaign_members m WHERE m.campaign_id = c.campaign_id),"
            " (SELECT count(*) FROM campaign_responses r"
            "  WHERE r.campaign_id = c.campaign_id AND r.kind = 'response'),"
            " (SELECT count(*) FROM campaign_responses r"
            "  WHERE r.campaign_id = c.campaign_id AND r.kind = 'conversion'),"
            " c.created_by, c.created_at FROM campaigns c ORDER BY c.campaign_id"
        )
        rows = cur.fetchall()
    columns = ["campaign_id", "name", "members", "responses", "conversions", "created_by", "created_at"]
    return pd.DataFrame(rows, columns=columns)


def campaign_members(db: Database, name: str, *, user: str) -> pd.DataFrame:
    """The snapshot members of a saved campaign who may be contacted now (consent, not suppressed).

    Parameters
    ----------
    db
        The database.
    name
        The campaign.
    user
        The acting user.

    Returns
    -------
    DataFrame
        As :func:`audience` members.
    """
    with db.transaction(user=user) as cur:
        query = sql.SQL(
            MEMBER_SELECT + " FROM campaign_members m JOIN accounts a USING (account_id)"
            " WHERE m.campaign_id = {} AND " + CONTACTABLE + " ORDER BY a.account_id"
        ).format(sql.Literal(_campaign_id(cur, name)))
        return copy_out(cur, query, types=MEMBER_TYPES)


def campaign_contacts(db: Database, name: str, *, user: str) -> pd.DataFrame:
    """The people to write to for a saved campaign: consented, unsuppressed contacts of its members.

    Read through the ``contactable_contacts`` view, so a contact without marketing
    consent or on the suppression list never appears, whatever the role.

    Parameters
    ----------
    db
        The database.
    name
        The campaign.
    user
        The acting user.

    Returns
    -------
    DataFrame
        ``account_external_id, account_name, first_name, last_name, title, email, phone``.
    """
    with db.transaction(user=user) as cur:
        campaign = _campaign_id(cur, name)
        cur.execute(
            "SELECT a.external_id AS account_external_id, a.name AS account_name, c.first_name,"
            " c.last_name, c.title, c.email, c.phone"
            " FROM campaign_members m JOIN accounts a USING (account_id)"
            " JOIN contactable_contacts c ON c.account_id = a.account_id"
            " WHERE m.campaign_id = %s AND " + CONTACTABLE + " ORDER BY a.account_id, c.contact_id",
            (campaign,),
        )
        columns = [d.name for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=columns)


def record_responses(db: Database, name: str, responses: pd.DataFrame, *, user: str) -> dict[str, int]:
    """Record responses and conversions of a campaign's members.

    Parameters
    ----------
    db
        The database.
    name
        The campaign.
    responses
        ``external_id``, ``kind`` (``response`` or ``conversion``) and optional ``revenue``.
    user
        The acting user.

    Returns
    -------
    dict
        ``recorded`` and ``rejected`` (not members, unknown kind).
    """
    frame = responses.assign(kind=responses["kind"].astype(str).str.strip().str.lower())
    revenue = frame["revenue"] if "revenue" in frame else pd.Series(np.nan, index=frame.index)
    recorded = 0
    with db.transaction(user=user) as cur:
        campaign = _campaign_id(cur, name)
        for external_id, kind, amount in zip(
            frame["external_id"].astype(str), frame["kind"], revenue, strict=True
        ):
            if kind not in ("response", "conversion"):
                continue
            cur.execute(
                "INSERT INTO campaign_responses (campaign_id, account_id, kind, revenue)"
                " SELECT %s, m.account_id, %s, %s FROM campaign_members m JOIN accounts a USING (account_id)"
                " WHERE m.campaign_id = %s AND a.external_id = %s",
                (campaign, kind, None if pd.isna(amount) else float(amount), campaign, external_id.strip()),
            )
            recorded += cur.rowcount
    return {"recorded": recorded, "rejected": len(frame) - recorded}


def response_by_region(db: Database, name: str, *, level: str = "state", user: str) -> pd.DataFrame:
    """Response rate, revenue and ROI of a campaign per region.

    Parameters
    ----------
    db
        The database.
    name
        The campaign.
    level
        ``state`` or ``county``.
    user
        The acting user.

    Returns
    -------
    DataFrame
        ``key, members, responses, conversions, revenue, cost, response_rate`` (%) and ``roi`` (%).
    """
    column = sql.Identifier(REGION_KEYS[level])
    query = sql.SQL(
        "WITH answered AS (SELECT account_id, bool_or(kind = 'conversion') AS converted,"
        " sum(revenue) AS revenue FROM campaign_responses WHERE campaign_id = %s GROUP BY account_id)"
        " SELECT a.{col} AS key, count(*) AS members, count(r.account_id) AS responses,"
        " count(*) FILTER (WHERE r.converted) AS conversions, coalesce(sum(r.revenue), 0)::float AS revenue,"
        " (count(*) * c.cost_per_member)::float AS cost"
        " FROM campaign_members m JOIN accounts a USING (account_id) JOIN campaigns c USING (campaign_id)"
        " LEFT JOIN answered r USING (account_id)"
        " WHERE m.campaign_id = %s GROUP BY a.{col}, c.cost_per_member ORDER BY 1"
    ).format(col=column)
    with db.transaction(user=user) as cur:
        campaign = _campaign_id(cur, name)
        cur.execute(query, (campaign, campaign))
        rows = cur.fetchall()
    table = pd.DataFrame(rows, columns=["key", "members", "responses", "conversions", "revenue", "cost"])
    table["response_rate"] = 100.0 * table["responses"] / table["members"]
    table["roi"] = 100.0 * (table["revenue"] - table["cost"]) / table["cost"].where(table["cost"] > 0)
    return table


def _campaign_id(cur: psycopg2.extensions.cursor, name: str) -> int:
    cur.execute("SELECT campaign_id FROM campaigns WHERE name = %s", (name,))
    row = cur.fetchone()
    if row is None:
        msg = f"No campaign named {name!r}."
        raise CampaignError(msg)
    return row[0]


def _part_condition(part: Part) -> tuple[sql.Composable, list]:
    if part.kind == "circle":
        return (
            sql.SQL(
                "ST_DWithin(a.geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s, false)"
            ),
            [part.lon, part.lat, part.radius_m],
        )
    if part.kind == "polygon":
        densified = "ST_Segmentize(ST_GeomFromText(%s, 4326)::geography, %s)::geometry"
        return (
            sql.SQL(f"a.geom && {densified} AND ST_Intersects(a.geom, {densified})"),
            [part.wkt, GREAT_CIRCLE_STEP_M, part.wkt, GREAT_CIRCLE_STEP_M],
        )
    if part.kind == "region":
        return sql.SQL("a.{} = ANY(%s)").format(sql.Identifier(REGION_KEYS[part.level])), [list(part.codes)]
    if part.kind == "territory":
        return sql.SQL("a.territory_id = ANY(%s)"), [[int(c) for c in part.codes]]
    if part.kind == "trade_area" and part.radius_m is not None:
        return (
            sql.SQL(
                "EXISTS (SELECT 1 FROM branches b WHERE b.branch_id = ANY(%s)"
                " AND ST_DWithin(a.geom::geography, b.geom::geography, %s, false))"
            ),
            [[int(c) for c in part.codes], part.radius_m],
        )
    if part.kind == "trade_area":
        return (
            sql.SQL(
                "(SELECT b.branch_id FROM branches b"
                " ORDER BY ST_Distance(a.geom::geography, b.geom::geography, false), b.branch_id"
                " LIMIT 1) = ANY(%s)"
            ),
            [[int(c) for c in part.codes]],
        )
    msg = f"Unknown target part {part.kind!r}."
    raise CampaignError(msg)


def _operation(operation: str) -> str:
    if operation not in OPERATIONS:
        msg = f"Unknown operation {operation!r}; choose union, intersection or difference."
        raise CampaignError(msg)
    return operation


def _jsonable(filters: Filters) -> dict:
    values = asdict(filters)
    return {
        k: (v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple) else v)
        for k, v in values.items()
    }
