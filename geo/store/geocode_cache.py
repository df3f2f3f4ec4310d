"""The ``geocode_cache`` table: what a street geocoder answered, keyed by the address's query string."""

from __future__ import annotations

import json

import pandas as pd
import psycopg2.extensions

from geo.store.db import Database


def address_queries(rows: pd.DataFrame) -> pd.Series:
    """Turn address columns into one query string per row ("1 Main St, Chicago, IL 60601").

    Parameters
    ----------
    rows
        ``street, city, state, postal_code``.

    Returns
    -------
    Series
        Query strings.
    """
    region = (rows["state"].fillna("") + " " + rows["postal_code"].fillna("")).str.strip()
    parts = pd.concat([rows["street"].fillna(""), rows["city"].fillna(""), region], axis=1)
    return parts.apply(lambda r: ", ".join(p.strip() for p in r if p and p.strip()), axis=1)


def cached_answers(
    db: Database, provider: str, queries: list[str], *, user: str
) -> dict[str, tuple[float | None, float | None]]:
    """Fetch the cached answers of a provider for queries (a miss is absent; "not found" is ``(None, None)``).

    Parameters
    ----------
    db
        The database.
    provider
        The geocoding provider's key.
    queries
        Query strings as :func:`address_queries` builds them.
    user
        The acting user.

    Returns
    -------
    dict
        Query → (lon, lat).
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT query_key, lon, lat FROM geocode_cache WHERE provider = %s AND query_key = ANY(%s)",
            (provider, queries),
        )
        return {key: (lon, lat) for key, lon, lat in cur.fetchall()}


def store_answer(
    db: Database, provider: str, query: str, found: tuple[float | None, float | None], *, user: str
) -> None:
    """Keep a provider's answer to a query, found or not, so it is never asked again.

    Parameters
    ----------
    db
        The database.
    provider
        The geocoding provider's key.
    query
        The query string.
    found
        (lon, lat), or (None, None) when the provider found nothing.
    user
        The acting user.
    """
    lon, lat = found
    with db.transaction(user=user) as cur:
        cur.execute(
            "INSERT INTO geocode_cache (query_key, provider, lon, lat, precision, raw)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (
                query,
                provider,
                lon,
                lat,
                "street" if lon is not None else "none",
                json.dumps({"query": query}),
            ),
        )


def forget_query(cur: psycopg2.extensions.cursor, query: str) -> int:
    """Delete every provider's cached answer to a query, inside the caller's transaction.

    Parameters
    ----------
    cur
        A cursor of the caller's transaction.
    query
        The query string.

    Returns
    -------
    int
        Cached answers deleted.
    """
    cur.execute("DELETE FROM geocode_cache WHERE query_key = %s", (query,))
    return cur.rowcount
