"""An optional self-hosted street geocoder (Nominatim or Photon through geopy), rate-limited and cached.

Used only when ``GCRM_GEOCODER_URL`` is set: gcrm stays offline by default.
Every answer, found or not, is kept in ``geocode_cache``, so the same
address is never asked twice.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pandas as pd
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim, Photon

from geo.config import Settings
from geo.ingest.geocode import StreetGeocoder
from geo.store.db import Database
from geo.store.geocode_cache import address_queries, cached_answers, store_answer

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
        cached = cached_answers(db, provider, queries.unique().tolist(), user=user)
        for query in queries.unique():
            if query not in cached:
                cached[query] = _ask(lookup, query)
                store_answer(db, provider, query, cached[query], user=user)
        found = pd.DataFrame([cached[q] for q in queries], index=rows.index, columns=["lon", "lat"])
        found["source"] = settings.geocoder
        return found

    return geocode


def _ask(lookup, query: str) -> tuple[float | None, float | None]:
    try:
        location = lookup(query, exactly_one=True)
    except GeopyError:
        return (None, None)
    if location is None:
        return (None, None)
    return (float(location.longitude), float(location.latitude))
