"""Put accounts on the map: geocode their addresses and assign region keys, vectorised."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.ingest.geocode import StreetGeocoder, geocode_addresses, load_gazetteer, normalise_zip
from geo.places.regions import region_keys
from geo.store.db import ewkb_hex
from geo.store.shipped_data import read_counties

PLACEMENT_COLUMNS = [
    "geom",
    "geocode_precision",
    "geocode_source",
    "geocode_note",
    "zip",
    "state_fips",
    "county_fips",
    "h3_r5",
    "h3_r7",
    "h3_r9",
]
"""Account columns that :func:`place_accounts` fills."""
STATE_LEVEL = "region"
"""The precision of an account placed at its state's interior point: it carries its state key only."""
FINER_KEYS = ("county_fips", "zip", "h3_r5", "h3_r7", "h3_r9")
"""The keys finer than the state, which a point placed at state level does not support."""


def place_accounts(
    rows: pd.DataFrame, data_dir: Path, *, street_geocoder: StreetGeocoder | None = None
) -> pd.DataFrame:
    """Geocode address columns and add location, precision and region keys.

    Parameters
    ----------
    rows
        Text columns among ``latitude, longitude, street, city, state, postal_code, country``.
    data_dir
        The shipped data directory.
    street_geocoder
        Optional street-level geocoder.

    Returns
    -------
    DataFrame
        ``rows`` without ``latitude``/``longitude``, plus :data:`PLACEMENT_COLUMNS`
        (``geom`` as hex EWKB, None where unplaced; keys as :func:`supported_keys` leaves them).
    """
    gazetteer = load_gazetteer(data_dir)
    placed = geocode_addresses(rows, gazetteer, street_geocoder=street_geocoder)
    located = placed["lon"].notna().to_numpy()
    points = points_where(placed["lon"], placed["lat"], located)
    keys = region_keys(gpd.GeoSeries(points, index=rows.index, crs="EPSG:4326"), read_counties(data_dir))
    zips = normalise_zip(rows["postal_code"]) if "postal_code" in rows else pd.Series(pd.NA, index=rows.index)
    out = rows.drop(columns=[c for c in ("latitude", "longitude") if c in rows])
    out["geom"] = pd.Series(ewkb_hex(points), index=rows.index)
    out["geocode_precision"] = placed["precision"]
    out["geocode_source"] = placed["source"]
    out["geocode_note"] = placed["note"].astype(object).where(placed["note"].notna(), None)
    out["zip"] = zips.where(zips.isin(gazetteer.zips.index), None)
    for column in keys.columns:
        out[column] = keys[column]
    return supported_keys(out, placed["precision"])


def supported_keys(keys: pd.DataFrame, precision: pd.Series) -> pd.DataFrame:
    """Blank the keys a placement's precision does not support: state level keeps the state key only.

    Parameters
    ----------
    keys
        Region keys of accounts (any of ``state_fips`` and :data:`FINER_KEYS`, other columns kept).
    precision
        Each account's geocode precision, aligned with ``keys``.

    Returns
    -------
    DataFrame
        ``keys`` with :data:`FINER_KEYS` None where the precision is :data:`STATE_LEVEL`.
    """
    state_only = precision.eq(STATE_LEVEL).to_numpy()
    out = keys.copy()
    for column in FINER_KEYS:
        if column in out:
            out[column] = out[column].astype(object).where(~state_only, None)
    return out


def points_where(lon: pd.Series, lat: pd.Series, ok: np.ndarray) -> np.ndarray:
    """Build shapely points where ``ok`` and None elsewhere.

    Parameters
    ----------
    lon, lat
        Coordinates in degrees.
    ok
        Which rows hold usable coordinates.

    Returns
    -------
    ndarray
        Object array of points and None.
    """
    points = np.full(len(ok), None, dtype=object)
    points[ok] = shapely.points(lon.to_numpy(dtype=float)[ok], lat.to_numpy(dtype=float)[ok])
    return points
