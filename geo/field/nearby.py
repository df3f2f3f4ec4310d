"""Field reps: the accounts nearest a position, an account's history, and logging a visit.

The nearest accounts come from a KNN scan of the accounts' geography GiST index, which
orders by great-circle distance (for a territory-scoped user, one scan per territory of the
(territory_id, geography) index, so a rep walks only their own accounts); filters are
applied inside the scan, so the k results are the k nearest on the sphere that pass them.
One query, one round trip in the usual case.
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd

from geo import clock
from geo.errors import NearbyError
from geo.ingest.geocode import Gazetteer, geocode_addresses
from geo.places.geodesy import within_radius_sql
from geo.roads.travel import Basis, travel_from
from geo.store.db import Database, execute_prepared

DEFAULT_K = 25
MAX_K = 500
KNN_TIE_MARGIN = 5
"""Candidates fetched beyond k, so that accounts at the same distance as the k-th rank by id
(the fetch widens while the last candidate still ties the k-th)."""
DRIVE_CANDIDATES = 4
"""Nearest by drive time re-ranks this many times k of the nearest on the sphere (at least 100)."""


_KNN = (
    "SELECT a.account_id, a.external_id, a.name, a.status, a.street, a.city, a.geom,"
    " a.geom::geography <-> here.p AS distance_m"
    " FROM accounts a, here WHERE {where} ORDER BY a.geom::geography <-> here.p LIMIT {fetch}"
)
"""One KNN scan on the sphere of the accounts that pass ``where``, with the columns the list shows."""


def position_from_text(text: str, gazetteer: Gazetteer) -> tuple[float, float, str]:
    """Read a position typed by a rep: ``lat, lon``, a ZIP, or a city with its state.

    Parameters
    ----------
    text
        As typed (``41.88, -87.63``, ``60601``, ``Springfield, IL``).
    gazetteer
        The offline gazetteer.

    Returns
    -------
    tuple
        lon, lat and how it was found.
    """
    cleaned = text.strip()
    numbers = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*[, ]\s*(-?\d+(?:\.\d+)?)\s*", cleaned)
    if numbers:
        lat, lon = float(numbers.group(1)), float(numbers.group(2))
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return lon, lat, "coordinates"
    city, _sep, state = cleaned.rpartition(",")
    address = pd.DataFrame(
        {
            "postal_code": [cleaned if re.fullmatch(r"\d{5}(-\d{4})?", cleaned) else ""],
            "city": [city.strip()],
            "state": [state.strip() if city else ""],
        }
    )
    placed = geocode_addresses(address, gazetteer).iloc[0]
    if placed["precision"] in ("postal", "city"):
        return float(placed["lon"]), float(placed["lat"]), f"{placed['precision']} ({placed['source']})"
    msg = f"Cannot place {text!r}: type a ZIP (60601), a city and state (Springfield, IL) or lat, lon."
    raise NearbyError(msg)


def nearest_accounts(
    db: Database,
    lon: float,
    lat: float,
    *,
    user: str,
    k: int = DEFAULT_K,
    radius_m: float | None = None,
    statuses: tuple[str, ...] = (),
    not_visited_days: int | None = None,
    open_orders: bool = False,
) -> pd.DataFrame:
    """Find the ``k`` accounts nearest a position, nearest first.

    Parameters
    ----------
    db
        The database.
    lon, lat
        The position in degrees.
    user
        The acting user.
    k
        How many.
    radius_m
        Only within this many metres.
    statuses
        Only these statuses.
    not_visited_days
        Only accounts without a visit in this many days.
    open_orders
        Only accounts with an open order.

    Returns
    -------
    DataFrame
        ``account_id, external_id, name, status, street, city, value`` (won revenue of the
        last 12 months), ``last_visit, distance_m, lon, lat``.
    """
    lon, lat = float(lon), float(lat)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"({lat}, {lon}) is not a latitude/longitude."
        raise NearbyError(msg)
    if not 1 <= k <= MAX_K:
        msg = f"Ask for 1 to {MAX_K} accounts, not {k}."
        raise NearbyError(msg)
    conditions, condition_params = _filters(lon, lat, radius_m, statuses, not_visited_days, open_orders)
    columns = ["account_id", "external_id", "name", "status", "street", "city", "value", "last_visit"]
    fetch = int(k) + KNN_TIE_MARGIN
    today = clock.today()
    with db.transaction(user=user) as cur:
        while True:
            execute_prepared(
                cur,
                *_nearest_query(lon, lat, conditions, condition_params, fetch=fetch, k=int(k), today=today),
            )
            rows = cur.fetchall()
            if not _ties_beyond_fetch(rows, k=int(k), fetch=fetch):
                break
            fetch *= 4
    return pd.DataFrame([row[:11] for row in rows], columns=[*columns, "distance_m", "lon", "lat"])


def nearest_by_drive(
    db: Database, lon: float, lat: float, *, user: str, k: int = DEFAULT_K, **filters: object
) -> tuple[pd.DataFrame, Basis]:
    """The ``k`` accounts nearest a position by driving time, nearest first.

    The candidates are the :data:`DRIVE_CANDIDATES` × ``k`` (at least 100, at most
    :data:`MAX_K`) nearest on the sphere that pass the filters, re-ranked by their driving
    time from the position (one search on the road network; an estimate, labelled, without one).

    Parameters
    ----------
    db
        The database.
    lon, lat
        The position in degrees.
    user
        The acting user.
    k
        How many.
    **filters
        As :func:`nearest_accounts` takes them (``radius_m``, ``statuses``, …).

    Returns
    -------
    tuple
        The accounts as :func:`nearest_accounts` gives them plus ``drive_min``, and the basis
        of the times.
    """
    if not 1 <= k <= MAX_K:
        msg = f"Ask for 1 to {MAX_K} accounts, not {k}."
        raise NearbyError(msg)
    fetch = min(MAX_K, max(100, DRIVE_CANDIDATES * k))
    candidates = nearest_accounts(db, lon, lat, user=user, k=fetch, **filters)
    if candidates.empty:
        return candidates.assign(drive_min=pd.Series(dtype=float)), Basis(by_road=False, label="")
    seconds, basis = travel_from(db, (lon, lat), candidates["lon"], candidates["lat"], user=user)
    ranked = candidates.assign(drive_min=seconds / 60).sort_values(
        ["drive_min", "distance_m"], kind="stable", ignore_index=True
    )
    return ranked.head(k), basis


def _nearest_query(
    lon: float, lat: float, conditions: list[str], condition_params: list, *, fetch: int, k: int, today: date
) -> tuple[str, list]:
    """The nearest-accounts query and its parameters: ``fetch`` candidates on the sphere, the best ``k``.

    Users who see every account scan the geography index; the others search each of their
    territories in the (territory_id, geography) index and merge the candidates, instead of
    walking everyone's accounts nearest first and discarding other territories' (GiST
    cannot order a scan under ``territory_id = ANY (…)``). The policies apply to both.
    ``fetch`` and ``k`` are written into the text, so that the plan of the prepared
    statement (:func:`geo.store.db.execute_prepared`) is made for them.
    """
    where = " AND ".join(conditions)
    fetch, k = int(fetch), int(k)
    query = (
        "WITH here AS NOT MATERIALIZED (SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography AS p),"
        " candidates AS ((" + _KNN.format(where=f"(SELECT gcrm_sees_all()) AND {where}", fetch=fetch) + ")"
        " UNION ALL (SELECT s.* FROM here, unnest(gcrm_territories()) AS t (territory_id),"
        " LATERAL (" + _KNN.format(where=f"a.territory_id = t.territory_id AND {where}", fetch=fetch) + ") s"
        f" WHERE NOT (SELECT gcrm_sees_all()) ORDER BY s.distance_m LIMIT {fetch})),"
        " reach AS (SELECT count(*) AS fetched, max(distance_m) AS farthest FROM candidates),"
        f" best AS (SELECT * FROM candidates ORDER BY distance_m, account_id LIMIT {k})"
        " SELECT b.account_id, b.external_id, b.name, b.status, b.street, b.city,"
        " coalesce(f.won_last_12_months, 0), f.last_visit_at,"
        " b.distance_m, ST_X(b.geom), ST_Y(b.geom), reach.fetched, reach.farthest"
        " FROM best b"
        " LEFT JOIN gcrm_account_figures(ARRAY(SELECT account_id FROM best), %s) f USING (account_id), reach"
        " ORDER BY b.distance_m, b.account_id"
    )
    params = [lon, lat, *condition_params, *condition_params, today]
    return query, params


def _ties_beyond_fetch(rows: list[tuple], *, k: int, fetch: int) -> bool:
    """Whether unfetched accounts may tie the k-th: the fetch was full and its last candidate ties it.

    The scan returns candidates in order of distance, so the k best of them are the k nearest;
    only accounts at exactly the k-th distance beyond the fetch could rank before it by id.
    """
    return bool(rows) and len(rows) >= k and rows[0][11] >= fetch and rows[0][12] <= rows[-1][8]


def _filters(
    lon: float,
    lat: float,
    radius_m: float | None,
    statuses: tuple[str, ...],
    not_visited_days: int | None,
    open_orders: bool,
) -> tuple[list[str], list]:
    conditions = ["a.geom IS NOT NULL"]
    params: list = []
    if radius_m is not None:
        condition, radius_params = within_radius_sql("a.geom", lon, lat, radius_m)
        conditions.append(condition)
        params += radius_params
    if statuses:
        conditions.append("a.status = ANY(%s)")
        params.append(list(statuses))
    if not_visited_days is not None:
        conditions.append(
            "NOT EXISTS (SELECT 1 FROM account_last_visits v WHERE v.account_id = a.account_id"
            " AND v.last_visit_at > %s::timestamptz - make_interval(days => %s))"
        )
        params += [clock.now(), int(not_visited_days)]
    if open_orders:
        conditions.append(
            "EXISTS (SELECT 1 FROM orders o WHERE o.account_id = a.account_id AND o.stage = 'open')"
        )
    return conditions, params


def account_history(db: Database, external_id: str, *, user: str) -> pd.DataFrame:
    """List an account's visits, calls, emails and orders, newest first.

    Parameters
    ----------
    db
        The database.
    external_id
        The account.
    user
        The acting user.

    Returns
    -------
    DataFrame
        ``when, what, detail, amount``.
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT i.occurred_at, i.kind, concat_ws(' — ', i.outcome, i.notes), NULL::float"
            " FROM interactions i JOIN accounts a USING (account_id) WHERE a.external_id = %s"
            " UNION ALL SELECT o.order_date::timestamptz, 'order (' || o.stage || ')', o.product,"
            " o.amount::float"
            " FROM orders o JOIN accounts a USING (account_id) WHERE a.external_id = %s"
            " ORDER BY 1 DESC",
            (external_id, external_id),
        )
        rows = cur.fetchall()
    return pd.DataFrame(rows, columns=["when", "what", "detail", "amount"])


def log_visit(
    db: Database,
    external_id: str,
    *,
    outcome: str,
    notes: str,
    user: str,
    lon: float | None = None,
    lat: float | None = None,
    duration_min: int | None = None,
) -> int:
    """Record a visit now, with its outcome, notes and check-in position, by the user's rep (if any).

    Parameters
    ----------
    db
        The database.
    external_id
        The account visited.
    outcome
        What came of it.
    notes
        Free text.
    user
        The acting user.
    lon, lat
        Where the rep checked in (optional).
    duration_min
        How long it took.

    Returns
    -------
    int
        The new interaction's id.
    """
    if not outcome.strip():
        msg = "Say what came of the visit (outcome)."
        raise NearbyError(msg)
    with db.transaction(user=user) as cur:
        cur.execute(
            "INSERT INTO interactions"
            " (account_id, rep_id, kind, occurred_at, duration_min, outcome, notes, checkin_geom)"
            " SELECT account_id, (SELECT u.rep_id FROM app_users u"
            "  WHERE u.username = current_setting('gcrm.user')), 'visit', %s, %s, %s, %s,"
            " CASE WHEN %s::float IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(%s, %s), 4326) END"
            " FROM accounts WHERE external_id = %s RETURNING interaction_id",
            (clock.now(), duration_min, outcome.strip(), notes.strip() or None, lon, lon, lat, external_id),
        )
        row = cur.fetchone()
    if row is None:
        msg = f"No account {external_id!r}."
        raise NearbyError(msg)
    return row[0]
