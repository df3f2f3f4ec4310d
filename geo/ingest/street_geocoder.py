"""An optional self-hosted street geocoder (Nominatim or Photon through geopy), rate-limited and cached.

Used only when ``GCRM_GEOCODER_URL`` is set: gcrm stays offline by default.
Every answer, found or not, is kept in ``geocode_cache``, so the same
address is never asked twice.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pandas as pd
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim, Photon

from geo.config import Settings
from geo.ingest.geocode import StreetGeocoder
from geo.store.db import Database

USER_AGENT = "gcrm"
TIMEOUT_S = 10
PROVIDERS = {"nominatim": Nominatim, "photon": Photon}


def street_geocoder(settings: Settings, db: Database, *, user: str) -> StreetGeocoder | None:
    """Build the configured street geocoder, or None when none is configured.

    Parameters
    ----------
    settings
        The settings in force (``geocoder_url``, ``geocoder``, ``geocoder_min_delay``).
    db
        Where the cache lives.
    user
        The acting user, who reads and writes the cache.

    Returns
    -------
    callable or None
        A :data:`geo.ingest.geocode.StreetGeocoder`.
    """
    if not settings.geocoder_url:
        return None
    if settings.geocoder not in PROVIDERS:
        msg = f"Unknown GCRM_GEOCODER {settings.geocoder!r}; choose one of {', '.join(PROVIDERS)}."
        raise ValueError(msg)
    parts = urlsplit(settings.geocoder_url)
    client = PROVIDERS[settings.geocoder](
        domain=parts.netloc + parts.path.rstrip("/"),
        scheme=parts.scheme or "http",
        user_agent=USER_AGENT,
        timeout=TIMEOUT_S,
    )
    lookup = RateLimiter(
        client.geocode, min_delay_seconds=settings.geocoder_min_delay, swallow_exceptions=False
    )
    provider = f"{settings.geocoder}:{settings.geocoder_url}"

    def geocode(rows: pd.DataFrame) -> pd.DataFrame:
        queries = address_queries(rows)
        cached = _cached(db, provider, queries.unique().tolist(), user=user)
        for query in queries.unique():
            if query not in cached:
                cached[query] = _ask(lookup, query)
                _store(db, provider, query, cached[query], user=user)
        found = pd.DataFrame([cached[q] for q in queries], index=rows.index, columns=["lon", "lat"])
        found["source"] = settings.geocoder
        return found

    return geocode


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


def _ask(lookup, query: str) -> tuple[float | None, float | None]:
    try:
        location = lookup(query, exactly_one=True)
    except GeopyError:
        return (None, None)
    if location is None:
        return (None, None)
    return (float(location.longitude), float(location.latitude))


def _cached(
    db: Database, provider: str, queries: list[str], *, user: str
) -> dict[str, tuple[float | None, float | None]]:
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT query_key, lon, lat FROM geocode_cache WHERE provider = %s AND query_key = ANY(%s)",
            (provider, queries),
        )
        return {key: (lon, lat) for key, lon, lat in cur.fetchall()}


def _store(
    db: Database, provider: str, query: str, found: tuple[float | None, float | None], *, user: str
) -> None:
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
