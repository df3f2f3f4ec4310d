"""Saved campaigns: save with a snapshot of the audience, export the members, record and report responses."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg2.extensions
from psycopg2 import sql

from geo.campaigns.audience import stage_audience
from geo.campaigns.filters import Filters
from geo.campaigns.queries import CONTACTABLE, MEMBER_SELECT, MEMBER_TYPES
from geo.campaigns.target import REGION_KEYS, Part, target_shape
from geo.errors import CampaignError
from geo.store.db import Database, copy_out, fetch_frame


def members_geojson(members: pd.DataFrame) -> str:
    """Write audience members as a GeoJSON FeatureCollection of points.

    Parameters
    ----------
    members
        As :func:`geo.campaigns.audience.audience` lists them.

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
        stage_audience(cur, parts, filters)
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
    """Snapshot the staged audience (:func:`geo.campaigns.audience.stage_audience`) as the members."""
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
        As :func:`geo.campaigns.audience.audience` members.
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
        return fetch_frame(cur)


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


def _jsonable(filters: Filters) -> dict:
    values = asdict(filters)
    return {
        k: (v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple) else v)
        for k, v in values.items()
    }
