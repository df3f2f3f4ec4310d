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
