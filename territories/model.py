"""Territories in PostGIS: the hierarchy, versions (draft → active → archived), units, overrides.

A territory is a set of units (counties, ZIPs or H3 cells, one level per version) and/or a
drawn polygon; territories nest region → district → territory and have one primary rep.
Accounts follow the active version through their unit (a drawn shape wins over a unit),
except for manual overrides, which are stored apart (``accounts.territory_override``) and
never touched by publishing.

Each verb that changes something is one transaction; its steps are helpers taking the
cursor. Plans are made on the whole book: only admins change them (:func:`may_plan`), and
the database refuses everyone else's writes to territories and plans (migration 012).
"""

from __future__ import annotations

import pandas as pd
import psycopg2.extensions
from psycopg2 import sql

from geo import clock
from geo.analysis.cube import dimension_keys
from geo.errors import AccessDenied, TerritoryError
from geo.ingest.placement import STATE_LEVEL
from geo.ingest.territory_keys import assign_territories
from geo.store.audit import record
from geo.store.db import Database, copy_frame, copy_out
from territories.plan import apply_moves

PLANNERS_ONLY = (
    "Only an admin may align, change or publish territory plans: a plan is made on the whole book,"
    " and your role sees part of it. You can read the plans here; ask an admin to change one."
)
"""What a user who may not plan is told (see :func:`may_plan`)."""
UNIT_LEVELS = ("county", "zip", "h3_5", "h3_6", "h3_7", "h3_8", "h3_9")
BOOK_TYPES = {
    "account_id": "int64",
    "external_id": "string",
    "status": "string",
    "territory_id": "int64",
    "territory_override": "bool",
    "county_fips": "string",
    "zip": "string",
    "h3_r5": "string",
    "h3_r7": "string",
    "h3_r9": "string",
    "revenue": "float64",
    "revenue_previous": "float64",
    "pipeline": "float64",
    "visits": "int64",
    "visit_minutes": "float64",
}
BOOK_QUERY = """
WITH latest AS (SELECT {today}::date AS day),
last_visit AS (SELECT {now}::timestamptz AS at),
per_order AS (
    SELECT o.account_id,
        sum(o.amount) FILTER (WHERE o.stage = 'won'
                               AND o.order_date > l.day - interval '12 months'
                               AND o.order_date <= l.day) AS revenue,
        sum(o.amount) FILTER (WHERE o.stage = 'won' AND o.order_date <= l.day - interval '12 months'
                               AND o.order_date > l.day - interval '24 months') AS revenue_previous,
        sum(o.amount) FILTER (WHERE o.stage = 'open') AS pipeline
    FROM orders o, latest l GROUP BY o.account_id
),
per_visit AS (
    SELECT i.account_id, count(*) AS visits, sum(coalesce(i.duration_min, 0)) AS visit_minutes
    FROM interactions i, last_visit v
    WHERE i.kind = 'visit' AND i.occurred_at > v.at - interval '12 months' AND i.occurred_at <= v.at
    GROUP BY i.account_id
)
SELECT a.account_id, a.external_id, a.status, a.territory_id, a.territory_override::text,
    a.county_fips, a.zip, a.h3_r5, a.h3_r7, a.h3_r9,
    coalesce(o.revenue, 0) AS revenue, coalesce(o.revenue_previous, 0) AS revenue_previous,
    coalesce(o.pipeline, 0) AS pipeline, coalesce(v.visits, 0) AS visits,
    coalesce(v.visit_minutes, 0) AS visit_minutes
FROM accounts a LEFT JOIN per_order o USING (account_id) LEFT JOIN per_visit v USING (account_id)
"""


def load_book(db: Database, level: str, *, user: str) -> pd.DataFrame:
    """Fetch every account's unit at ``level`` and the figures territory KPIs are made of.

    Parameters
    ----------
    db
        The database.
    level
        Unit level (see :data:`UNIT_LEVELS`).
    user
        The acting user.

    Returns
    -------
    DataFrame
        ``account_id, external_id, status, territory_id, override, unit, revenue`` (last 12
        months of won orders), ``revenue_previous`` (the 12 before), ``pipeline`` (open
        orders), ``visits`` and ``visit_minutes`` (last 12 months).
    """
    _check_level(level)
    with db.transaction(user=user) as cur:
        query = sql.SQL(BOOK_QUERY).format(today=sql.Literal(clock.today()), now=sql.Literal(clock.now()))
        book = copy_out(cur, query, types=BOOK_TYPES)
    return _with_units(book, level)


def _with_units(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    frame["unit"] = dimension_keys(frame, level).astype(object).where(lambda s: s.notna(), None)
    frame = frame.rename(columns={"territory_override": "override"})
    return frame.drop(columns=["county_fips", "zip", "h3_r5", "h3_r7", "h3_r9"])


def territory_table(db: Database, *, user: str) -> pd.DataFrame:
    """List the territories with their rep, parent, quota and lock.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    DataFrame
        Indexed by ``territory_id``: ``code, name, kind, parent_id, rep_id, rep_name, quota, locked``.
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT t.territory_id, t.code, t.name, t.kind, t.parent_id, t.rep_id, r.name,"
            " t.quota::float, t.locked FROM territories t LEFT JOIN reps r USING (rep_id)"
            " ORDER BY t.territory_id"
        )
        rows = cur.fetchall()
    columns = ["territory_id", "code", "name", "kind", "parent_id", "rep_id", "rep_name", "quota", "locked"]
    return pd.DataFrame(rows, columns=columns).set_index("territory_id")


def _upsert_territories(cur: psycopg2.extensions.cursor, territories: pd.DataFrame) -> list[int]:
    ids = []
    for row in territories.to_dict("records"):
        cur.execute(
            "INSERT INTO territories (code, name, kind, parent_id, rep_id, quota)"
            " VALUES (%s, %s, %s, (SELECT territory_id FROM territories WHERE code = %s), %s, %s)"
            " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,"
            " parent_id = EXCLUDED.parent_id, rep_id = EXCLUDED.rep_id, quota = EXCLUDED.quota"
            " RETURNING territory_id",
            (
                row["code"],
                row["name"],
                row.get("kind") or "territory",
                _none(row.get("parent_code")),
                _none(row.get("rep_id")),
                _none(row.get("quota")),
            ),
        )
        ids.append(cur.fetchone()[0])
    return ids


def lock_territory(db: Database, territory_id: int, locked: bool, *, user: str) -> None:
    """Lock a territory (no unit may enter or leave it) or unlock it.

    Parameters
    ----------
    db
        The database.
    territory_id
        The territory.
    locked
        The new state.
    user
        The acting user.
    """
    with db.transaction(user=user) as cur:
        _require_planner(cur)
        cur.execute("UPDATE territories SET locked = %s WHERE territory_id = %s", (locked, territory_id))
        if cur.rowcount == 0:
            msg = f"No territory {territory_id}."
            raise TerritoryError(msg)


def create_version(db: Database, name: str, level: str, *, user: str, copy_from: int | None = None) -> int:
    """Start a draft version, empty or as a copy of another version's units and shapes.

    Parameters
    ----------
    db
        The database.
    name
        What the plan is called.
    level
        Unit level of the plan.
    user
        The acting user.
    copy_from
        A version to copy (its level must match).

    Returns
    -------
    int
        The new version id.
    """
    _check_level(level)
    with db.transaction(user=user) as cur:
        _require_planner(cur)
        version = _insert_version(cur, name, level)
        if copy_from is not None:
            cur.execute(
                "INSERT INTO territory_units (version_id, unit_level, unit_code, territory_id, locked)"
                " SELECT %s, unit_level, unit_code, territory_id, locked FROM territory_units"
                " WHERE version_id = %s AND unit_level = %s",
                (version, copy_from, level),
            )
            cur.execute(
                "INSERT INTO territory_shapes (version_id, territory_id, geom)"
                " SELECT %s, territory_id, geom FROM territory_shapes WHERE version_id = %s",
                (version, copy_from),
            )
    return version


def _insert_version(cur: psycopg2.extensions.cursor, name: str, level: str) -> int:
    cur.execute(
        "INSERT INTO territory_versions (name, unit_level, created_by)"
        " VALUES (%s, %s, current_setting('gcrm.user')) RETURNING version_id",
        (name, level),
    )
    return cur.fetchone()[0]


def versions(db: Database, *, user: str) -> pd.DataFrame:
    """List the versions, newest first.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    DataFrame
        ``version_id, name, status, unit_level, units, created_by, created_at, published_at``.
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT v.version_id, v.name, v.status, v.unit_level,"
            " (SELECT count(*) FROM territory_units u WHERE u.version_id = v.version_id),"
            " v.created_by, v.created_at, v.published_at"
            " FROM territory_versions v ORDER BY v.version_id DESC"
        )
        rows = cur.fetchall()
    columns = [
        "version_id",
        "name",
        "status",
        "unit_level",
        "units",
        "created_by",
        "created_at",
        "published_at",
    ]
    return pd.DataFrame(rows, columns=columns)


def active_version(db: Database, *, user: str) -> int | None:
    """Return the id of the active version, or None before the first publication.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    int or None
        The version id.
    """
    with db.transaction(user=user) as cur:
        cur.execute("SELECT version_id FROM territory_versions WHERE status = 'active'")
        row = cur.fetchone()
    return row[0] if row else None


def version_plan(db: Database, version: int, *, user: str) -> tuple[str, pd.Series, set[str]]:
    """Read a version: its unit level, unit → territory, and the locked units.

    Parameters
    ----------
    db
        The database.
    version
        The version id.
    user
        The acting user.

    Returns
    -------
    tuple
        Level, assignment (unit code → territory id), locked unit codes.
    """
    with db.transaction(user=user) as cur:
        return _version_plan(cur, version)


def _version_plan(cur: psycopg2.extensions.cursor, version: int) -> tuple[str, pd.Series, set[str]]:
    cur.execute("SELECT unit_level FROM territory_versions WHERE version_id = %s", (version,))
    row = cur.fetchone()
    if row is None:
        msg = f"No territory version {version}."
        raise TerritoryError(msg)
    cur.execute(
        "SELECT unit_code, territory_id, locked FROM territory_units WHERE version_id = %s"
        " ORDER BY unit_code",
        (version,),
    )
    units = cur.fetchall()
    assignment = pd.Series({code: territory for code, territory, _locked in units}, dtype="int64")
    assignment.index.name = "unit"
    return row[0], assignment, {code for code, _territory, locked in units if locked}


def save_plan(
    db: Database, version: int, assignment: pd.Series, *, user: str, locked: set[str] | None = None
) -> None:
    """Replace the units of a draft version.

    Parameters
    ----------
    db
        The database.
    version
        A draft version.
    assignment
        Unit code → territory id.
    user
        The acting user.
    locked
        Unit codes to lock (default: keep the locks the version has).
    """
    with db.transaction(user=user) as cur:
        _require_draft(cur, version)
        level, _current, kept = _version_plan(cur, version)
        _write_units(cur, version, level, assignment, kept if locked is None else locked)


def save_draft(
    db: Database, name: str, level: str, assignment: pd.Series, *, user: str, locked: set[str] | None = None
) -> int:
    """Save a plan (an alignment, say) as a new draft version, all or nothing.

    Parameters
    ----------
    db
        The database.
    name
        What the plan is called.
    level
        Unit level of the plan.
    assignment
        Unit code → territory id.
    user
        The acting user.
    locked
        Unit codes to lock (default: none).

    Returns
    -------
    int
        The new version id.
    """
    _check_level(level)
    with db.transaction(user=user) as cur:
        _require_planner(cur)
        version = _insert_version(cur, name, level)
        _write_units(cur, version, level, assignment, locked or set())
    return version


def move_units(db: Database, version: int, moves: dict[str, int], *, user: str) -> pd.Series:
    """Move units between territories of a draft version, respecting locks.

    Parameters
    ----------
    db
        The database.
    version
        A draft version.
    moves
        Unit code → territory id.
    user
        The acting user.

    Returns
    -------
    Series
        The saved assignment.
    """
    with db.transaction(user=user) as cur:
        _require_draft(cur, version)
        level, assignment, locked = _version_plan(cur, version)
        moved = apply_moves(assignment, moves, locked=locked, frozen=_locked_territories(cur))
        _write_units(cur, version, level, moved, locked)
    return moved


def lock_units(db: Database, version: int, units: list[str], locked: bool, *, user: str) -> int:
    """Lock units of a draft version in their territory (or unlock them).

    Parameters
    ----------
    db
        The database.
    version
        A draft version.
    units
        Unit codes.
    locked
        The new state.
    user
        The acting user.

    Returns
    -------
    int
        Units changed.
    """
    with db.transaction(user=user) as cur:
        _require_draft(cur, version)
        cur.execute(
            "UPDATE territory_units SET locked = %s WHERE version_id = %s AND unit_code = ANY(%s)",
            (locked, version, list(units)),
        )
        return cur.rowcount


def publish(db: Database, version: int, *, user: str) -> int:
    """Make a draft version the active one and move every account (but overrides) to its territory.

    The previously active version is archived; the publication is written to the audit log.
    Only a user who sees the whole book may publish (see :func:`may_plan`). Accounts follow
    the rule of :func:`geo.ingest.territory_keys.assign_territories`.

    Parameters
    ----------
    db
        The database.
    version
        A draft version.
    user
        The acting user.

    Returns
    -------
    int
        Accounts whose territory changed.
    """
    with db.transaction(user=user) as cur:
        _require_draft(cur, version)
        return _publish_version(cur, version)


def publish_plan(
    db: Database, territories: pd.DataFrame, name: str, level: str, assignment: pd.Series, *, user: str
) -> int:
    """Create (or update) territories and publish a plan of them, all or nothing.

    Parameters
    ----------
    db
        The database.
    territories
        ``code, name`` and optional ``kind, parent_code, rep_id, quota``, parents before
        their children; a territory whose code exists is updated.
    name
        What the plan is called.
    level
        Unit level of the plan.
    assignment
        Unit code → territory code (a code of ``territories``).
    user
        The acting user.

    Returns
    -------
    int
        The published version.
    """
    _check_level(level)
    with db.transaction(user=user) as cur:
        _require_planner(cur)
        ids = dict(zip(territories["code"], _upsert_territories(cur, territories), strict=True))
        version = _insert_version(cur, name, level)
        _write_units(cur, version, level, assignment.map(ids), set())
        _publish_version(cur, version)
    return version


def _publish_version(cur: psycopg2.extensions.cursor, version: int) -> int:
    _activate(cur, version)
    changed = assign_territories(cur, version=version)
    record(cur, "territory.publish", f"version:{version}", {"accounts_moved": changed})
    return changed


def save_shape(db: Database, version: int, territory_id: int, wkb_hex: str, *, user: str) -> None:
    """Give a territory of a draft version a drawn polygon (replacing any it had).

    Parameters
    ----------
    db
        The database.
    version
        A draft version.
    territory_id
        The territory.
    wkb_hex
        A validated (Multi)Polygon in EPSG:4326 as hex WKB.
    user
        The acting user.
    """
    with db.transaction(user=user) as cur:
        _require_draft(cur, version)
        cur.execute(
            "INSERT INTO territory_shapes (version_id, territory_id, geom)"
            " VALUES (%s, %s, ST_Multi(ST_SetSRID(ST_GeomFromWKB(decode(%s, 'hex')), 4326)))"
            " ON CONFLICT (version_id, territory_id) DO UPDATE SET geom = EXCLUDED.geom",
            (version, territory_id, wkb_hex),
        )


def shapes_of_accounts(db: Database, version: int, *, user: str) -> pd.DataFrame:
    """Which drawn territory shapes of a version each account lies in.

    Parameters
    ----------
    db
        The database.
    version
        The version.
    user
        The acting user.

    Returns
    -------
    DataFrame
        ``account_id, territory_id``.
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT a.account_id, s.territory_id FROM territory_shapes s JOIN accounts a"
            " ON s.geom && a.geom AND ST_Covers(s.geom, a.geom)"
            " WHERE s.version_id = %s AND a.geocode_precision <> %s",
            (version, STATE_LEVEL),
        )
        rows = cur.fetchall()
    return pd.DataFrame(rows, columns=["account_id", "territory_id"])


def set_override(db: Database, external_id: str, territory_id: int | None, *, user: str) -> None:
    """Pin an account to a territory by hand, or (None) hand it back to the geographic rule.

    Handing back takes the territory the active version gives the account (its unit, or a drawn
    shape covering it).

    Parameters
    ----------
    db
        The database.
    external_id
        The account.
    territory_id
        The territory, or None to clear the override.
    user
        The acting user.
    """
    with db.transaction(user=user) as cur:
        if territory_id is not None:
            cur.execute(
                "UPDATE accounts SET territory_id = %s, territory_override = true, updated_at = now()"
                " WHERE external_id = %s",
                (territory_id, external_id),
            )
        else:
            cur.execute(
                "UPDATE accounts SET territory_override = false, updated_at = now() WHERE external_id = %s",
                (external_id,),
            )
        if cur.rowcount == 0:
            msg = f"No account {external_id!r}."
            raise TerritoryError(msg)
        if territory_id is None:
            account = sql.SQL("SELECT account_id FROM accounts WHERE external_id = {}").format(
                sql.Literal(external_id)
            )
            assign_territories(cur, accounts=account)


def may_plan(db: Database, *, user: str) -> bool:
    """Tell whether a user may align, change and publish territory plans.

    Plans are made on the whole book: only admins, who see all of it, make them; the
    database refuses everyone else's changes to territories and plans (migration 012).

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    bool
        True for admins.
    """
    with db.transaction(user=user) as cur:
        cur.execute("SELECT gcrm_may_plan()")
        return bool(cur.fetchone()[0])


def _require_planner(cur: psycopg2.extensions.cursor) -> None:
    cur.execute("SELECT gcrm_may_plan()")
    if not cur.fetchone()[0]:
        raise AccessDenied(PLANNERS_ONLY)


def _require_draft(cur: psycopg2.extensions.cursor, version: int) -> None:
    _require_planner(cur)
    cur.execute("SELECT status FROM territory_versions WHERE version_id = %s FOR UPDATE", (version,))
    row = cur.fetchone()
    if row is None or row[0] != "draft":
        msg = f"Version {version} is {'missing' if row is None else row[0]}: only a draft can change."
        raise TerritoryError(msg)


def _locked_territories(cur: psycopg2.extensions.cursor) -> set[int]:
    cur.execute("SELECT territory_id FROM territories WHERE locked")
    return {territory for (territory,) in cur.fetchall()}


def _write_units(
    cur: psycopg2.extensions.cursor, version: int, level: str, assignment: pd.Series, locked: set[str]
) -> None:
    frame = pd.DataFrame(
        {
            "version_id": version,
            "unit_level": level,
            "unit_code": assignment.index.astype(str),
            "territory_id": assignment.to_numpy(dtype="int64"),
            "locked": assignment.index.isin(list(locked)),
        }
    )
    cur.execute("DELETE FROM territory_units WHERE version_id = %s", (version,))
    copy_frame(cur, "territory_units", frame)


def _activate(cur: psycopg2.extensions.cursor, version: int) -> None:
    cur.execute("UPDATE territory_versions SET status = 'archived' WHERE status = 'active'")
    cur.execute(
        "UPDATE territory_versions SET status = 'active', published_at = now() WHERE version_id = %s",
        (version,),
    )


def _check_level(level: str) -> None:
    if level not in UNIT_LEVELS:
        msg = f"Unknown unit level {level!r}; choose one of {', '.join(UNIT_LEVELS)}."
        raise TerritoryError(msg)


def _none(value: object) -> object:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
