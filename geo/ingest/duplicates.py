"""Probable duplicate accounts, listed for review (never merged automatically).

Two accounts are probable duplicates when their normalised names are equal
and they lie within ``NEAR_M`` metres of each other, or when their normalised
street address and ZIP are equal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.places.geodesy import METRIC_CRS

NEAR_M = 250.0
LEGAL_SUFFIXES = r"\b(inc|incorporated|llc|l l c|ltd|limited|co|corp|corporation|company|group|plc|the)\b"
PAIR_COLUMNS = ["external_id_a", "name_a", "external_id_b", "name_b", "reason", "distance_m"]


def normalise_name(names: pd.Series) -> pd.Series:
    """Reduce company names for comparison: case, punctuation and legal suffixes removed.

    Parameters
    ----------
    names
        Company names.

    Returns
    -------
    Series
        Normalised names ("ACME, Inc." → "acme").
    """
    words = names.fillna("").str.lower().str.replace("&", " and ").str.replace(r"[^a-z0-9]+", " ", regex=True)
    return words.str.replace(LEGAL_SUFFIXES, " ", regex=True).str.split().str.join(" ")


def probable_duplicates(accounts: pd.DataFrame) -> pd.DataFrame:
    """List pairs of accounts that probably are one customer.

    Parameters
    ----------
    accounts
        ``external_id, name, street, postal_code, lon, lat`` (lon/lat NaN where unplaced).

    Returns
    -------
    DataFrame
        :data:`PAIR_COLUMNS`, one row per pair (a before b by external id),
        ``distance_m`` measured in metres (NaN when either is unplaced).
    """
    frame = accounts.sort_values("external_id", ignore_index=True)
    name = normalise_name(frame["name"])
    address = normalise_name(frame["street"]) + "|" + frame["postal_code"].fillna("").str[:5]
    xy = _metric_xy(frame)
    near = _near_pairs(xy)
    same_name = near[
        (name.to_numpy()[near[:, 0]] == name.to_numpy()[near[:, 1]]) & (name.to_numpy()[near[:, 0]] != "")
    ]
    has_address = frame["street"].fillna("").str.strip().ne("").to_numpy()
    same_address = _equal_pairs(np.where(has_address, address.to_numpy(), None))
    pairs = pd.DataFrame(
        np.vstack([same_name, same_address]) if len(same_name) + len(same_address) else np.empty((0, 2), int),
        columns=["a", "b"],
    ).astype(int)
    pairs["reason"] = ["same name nearby"] * len(same_name) + ["same address"] * len(same_address)
    pairs = pairs.drop_duplicates(["a", "b"], keep="first")
    distance = np.hypot(*(xy[pairs["a"]] - xy[pairs["b"]]).T) if len(pairs) else np.array([])
    return pd.DataFrame(
        {
            "external_id_a": frame["external_id"].to_numpy()[pairs["a"]],
            "name_a": frame["name"].to_numpy()[pairs["a"]],
            "external_id_b": frame["external_id"].to_numpy()[pairs["b"]],
            "name_b": frame["name"].to_numpy()[pairs["b"]],
            "reason": pairs["reason"].to_numpy(),
            "distance_m": np.round(distance, 1),
        },
        columns=PAIR_COLUMNS,
    )


def _metric_xy(frame: pd.DataFrame) -> np.ndarray:
    transformer = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
    x, y = transformer.transform(frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float))
    xy = np.column_stack([x, y])
    xy[~np.isfinite(xy).all(axis=1)] = np.nan
    return xy


def _near_pairs(xy: np.ndarray) -> np.ndarray:
    located = np.flatnonzero(~np.isnan(xy).any(axis=1))
    points = shapely.points(xy[located])
    tree = shapely.STRtree(points)
    left, right = tree.query(points, predicate="dwithin", distance=NEAR_M)
    keep = left < right
    return np.column_stack([located[left[keep]], located[right[keep]]])


def _equal_pairs(keys: np.ndarray) -> np.ndarray:
    series = pd.Series(keys).dropna()
    groups = series.groupby(series).groups
    pairs = [
        (a, b)
        for members in groups.values()
        if len(members) > 1
        for i, a in enumerate(members)
        for b in members[i + 1 :]
    ]
    return np.array(pairs, dtype=int).reshape(-1, 2)
