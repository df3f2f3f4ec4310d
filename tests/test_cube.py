"""Region measures joined to polygons."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from geo.accounts import account_counts_by_region, headline_counts
from geo.bootstrap import prepare_database
from geo.config import Settings
from geo.cube import region_measures


def test_region_measures_fill_missing_regions_with_zero() -> None:
    regions = gpd.GeoDataFrame(
        {"code": ["01", "02", "03"], "name": ["A", "B", "C"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)],
        crs="EPSG:4326",
    )
    counts = pd.DataFrame(
        {
            "code": ["01", "03"],
            "accounts": [4, 3],
            "customers": [1, 3],
            "prospects": [2, 0],
            "churned": [1, 0],
        }
    )
    measured = region_measures(regions, counts)
    assert list(measured["code"]) == ["01", "02", "03"]
    assert list(measured["accounts"]) == [4, 0, 3]
    assert measured.loc[0, "customer_share"] == 25.0
    assert np.isnan(measured.loc[1, "customer_share"])
    assert measured.loc[2, "customer_share"] == 100.0
    assert measured.crs == "EPSG:4326"


def test_counts_by_state_and_county_roll_up_to_the_total(demo_settings: Settings) -> None:
    conns = prepare_database(demo_settings)
    by_state = account_counts_by_region(conns.app, "state", user="t")
    by_county = account_counts_by_region(conns.app, "county", user="t")
    headline = headline_counts(conns.app, user="t")
    conns.close()
    assert by_state["accounts"].sum() == by_county["accounts"].sum() == headline["accounts"] == 3_000
    rolled = by_county.assign(code=by_county["code"].str[:2]).groupby("code").sum(numeric_only=True)
    assert_equal = rolled.reset_index().sort_values("code", ignore_index=True)
    pd.testing.assert_frame_equal(
        assert_equal, by_state.sort_values("code", ignore_index=True), check_dtype=False
    )
    assert (by_state[["customers", "prospects", "churned"]].sum(axis=1) == by_state["accounts"]).all()
    assert headline["customers"] + headline["prospects"] + headline["churned"] == 3_000
    assert headline["revenue_12m"] > 0 and 10 <= headline["reps"] <= 20
