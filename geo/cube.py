"""OLAP-style aggregates by region, computed in GeoPandas from stored region keys."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

MEASURES = {
    "accounts": "Accounts",
    "customers": "Customers",
    "prospects": "Prospects",
    "churned": "Churned",
    "customer_share": "Customer share (%)",
}
"""Measure column → the label users see."""


def region_measures(regions: gpd.GeoDataFrame, counts: pd.DataFrame) -> gpd.GeoDataFrame:
    """Join account counts to region polygons and derive the shares.

    Parameters
    ----------
    regions
        Regions of one level with ``code``, ``name`` and geometry.
    counts
        Per-region counts with ``code, accounts, customers, prospects, churned``.

    Returns
    -------
    GeoDataFrame
        Every region (zero where it has no account) with the count columns and
        ``customer_share`` (customers as a percentage of accounts, NaN where
        there are none).
    """
    count_columns = [c for c in counts.columns if c != "code"]
    merged = regions.merge(counts, on="code", how="left")
    merged[count_columns] = merged[count_columns].fillna(0).astype("int64")
    accounts = merged["accounts"].where(merged["accounts"] > 0)
    merged["customer_share"] = (100.0 * merged["customers"] / accounts).round(1)
    return merged


def low_precision_by_state(
    counts: pd.DataFrame, states: gpd.GeoDataFrame, state_codes: pd.Series
) -> gpd.GeoDataFrame:
    """Total unplaced and state-level accounts per state, on the state polygons.

    Parameters
    ----------
    counts
        ``state`` (as typed), ``geocode_precision``, ``accounts``.
    states
        State regions with ``abbrev`` and geometry.
    state_codes
        Postal code for each row of ``counts`` (NA where the typed state is unknown).

    Returns
    -------
    GeoDataFrame
        Every state with ``unplaced`` and ``state_level`` counts and their sum ``low_precision``.
    """
    frame = counts.assign(abbrev=state_codes.to_numpy())
    pivot = frame.pivot_table(index="abbrev", columns="geocode_precision", values="accounts", aggfunc="sum")
    pivot = pivot.reindex(columns=["none", "region"]).fillna(0).astype("int64")
    pivot.columns = ["unplaced", "state_level"]
    merged = states.merge(pivot, left_on="abbrev", right_index=True, how="left")
    merged[["unplaced", "state_level"]] = merged[["unplaced", "state_level"]].fillna(0).astype("int64")
    merged["low_precision"] = merged["unplaced"] + merged["state_level"]
    return merged
