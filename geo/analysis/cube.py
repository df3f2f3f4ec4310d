"""The OLAP cube over accounts and won orders, computed in GeoPandas/pandas from stored region keys.

Every query first aggregates additive base figures (counts and sums) per
member of one dimension, then derives the ratios from them. Because the base
figures add up, rolling a finer level up to a coarser one gives exactly the
coarser query (county → state, H3 r9 → r5 …), and the grand total equals a
plain count and sum over the tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import CubeQueryError
from geo.places.regions import LEVEL_COLUMNS, h3_cell_labels, h3_hexagon, level_keys

DIMENSIONS = {
    **LEVEL_COLUMNS,
    "territory": "territory_id",
    "trade_area": "trade_area",
    "rep": "owner_rep_id",
    "segment": "segment",
    "industry": "industry",
    "status": "status",
}
"""Dimension → the account column holding its key (H3 6 and 8 derive from the stored 7 and 9).

``trade_area`` is the nearest-branch trade area: the ``branch_id`` of the account's nearest
branch on the sphere, so the members partition the accounts and add up to the total.
"""
FINER_THAN_STATE = ("county", "zip", "h3_5", "h3_6", "h3_7", "h3_8", "h3_9")
"""Geographic dimensions finer than the state, in which an account placed at state level has no member."""
DRILL_PATH = {"state": "county", "county": "zip", "zip": "accounts"}
BASE = ["accounts", "customers", "prospects", "churned", "revenue", "orders", "revenue_previous"]
CUBE_MEASURES = {
    "accounts": "Accounts",
    "customers": "Customers",
    "prospects": "Prospects",
    "churned": "Churned",
    "churn_rate": "Churn rate (%)",
    "revenue": "Revenue",
    "orders": "Orders",
    "avg_order_value": "Average order value",
    "revenue_per_customer": "Revenue per customer",
    "growth": "Revenue growth (%)",
    "revenue_share": "Share of revenue (%)",
    "account_share": "Share of accounts (%)",
    "penetration": "Customers per 10,000 people",
    "penetration_households": "Customers per 1,000 households",
    "penetration_establishments": "Customers per 100 establishments",
    "revenue_per_household": "Revenue per household",
    "market_index": "Customer share ÷ population share (100 = par)",
    "population": "Population",
    "households": "Households",
    "jobs": "Jobs located here (daytime workers)",
    "establishments": "Business establishments",
}
"""Measure → label. Counts describe accounts now; revenue and orders fall in the period; the
market figures (population … establishments) are the regions' facts, whatever the filters."""
MEASURE_KINDS = {
    **dict.fromkeys(
        (
            "accounts",
            "customers",
            "prospects",
            "churned",
            "orders",
            "population",
            "households",
            "jobs",
            "establishments",
        ),
        "count",
    ),
    **dict.fromkeys(("revenue", "avg_order_value", "revenue_per_customer", "revenue_per_household"), "money"),
    **dict.fromkeys(("churn_rate", "growth", "revenue_share", "account_share"), "percent"),
    **dict.fromkeys(
        ("penetration", "penetration_households", "penetration_establishments", "market_index"), "rate"
    ),
}
"""Measure → how its values read (:mod:`geo.formatting`): whole counts, money, percentages (the
values are already in percent), or rates."""
MARKET = ("population", "households", "jobs", "establishments")
"""Market figures per member (:mod:`geo.store.region_facts`), additive like the base figures."""
MARKET_MEASURES = (
    *MARKET,
    "penetration",
    "penetration_households",
    "penetration_establishments",
    "revenue_per_household",
    "market_index",
)
"""Measures that need the market figures: unknown (NaN) where the members have none."""
TIME_GRAINS = {"year": "Y", "quarter": "Q", "month": "M"}


@dataclass(frozen=True)
class Period:
    """A half-open date range ``[start, end)`` and the equally long range before it.

    Attributes
    ----------
    start, end
        First day in, first day out.
    label
        As the user wrote it (``2025``, ``2025Q1``, ``2025-03``).
    previous_start
        Start of the previous period (which ends at ``start``).
    """

    start: date
    end: date
    label: str
    previous_start: date


@dataclass(frozen=True)
class Facts:
    """What the cube aggregates.

    Attributes
    ----------
    accounts
        One row per account: ``account_id, status, segment, industry, owner_rep_id,
        territory_id, state_fips, county_fips, zip, h3_r5, h3_r7, h3_r9, trade_area``.
    orders
        Won orders: ``account_id, order_date`` (datetime64), ``amount``.
    """

    accounts: pd.DataFrame
    orders: pd.DataFrame

    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def order_rows(self) -> np.ndarray:
        """Row of ``accounts`` that each order belongs to (-1 when absent), computed once."""
        return pd.Index(self.accounts["account_id"]).get_indexer(self.orders["account_id"])

    @cached_property
    def statuses(self) -> dict[str, np.ndarray]:
        """Boolean mask of accounts per status, computed once."""
        status = self.accounts["status"].to_numpy(dtype=object)
        return {name: status == name for name in ("customer", "prospect", "churned")}

    @cached_property
    def periods(self) -> list[str]:
        """Years then quarters that hold orders, newest first, computed once."""
        dates = self.orders["order_date"]
        if dates.empty:
            return []
        years = sorted({str(y) for y in dates.dt.year.unique()}, reverse=True)
        quarters = sorted({str(q) for q in dates.dt.to_period("Q").unique()}, reverse=True)
        return years + quarters

    def values(self, column: str) -> list[str]:
        """The distinct values of an account column (a filter's options), sorted; cached.

        Parameters
        ----------
        column
            ``segment``, ``industry``, ``status`` …

        Returns
        -------
        list of str
            Sorted values, missing ones left out.
        """
        key = f"values:{column}"
        if key not in self._cache:
            self._cache[key] = sorted(self.accounts[column].dropna().unique())
        return self._cache[key]

    def member_codes(self, by: str) -> tuple[np.ndarray, np.ndarray]:
        """Each account's member of ``by`` as an integer code (-1 for none), and the members; cached.

        Parameters
        ----------
        by
            A dimension.

        Returns
        -------
        tuple
            Codes per account, and the member keys they index.
        """
        if by not in self._cache:
            codes, members = pd.factorize(dimension_keys(self.accounts, by), sort=True, use_na_sentinel=True)
            self._cache[by] = (codes, np.asarray(members, dtype=object))
        return self._cache[by]


def parse_period(text: str) -> Period:
    """Read a year (``2025``), quarter (``2025Q1``) or month (``2025-03``).

    Parameters
    ----------
    text
        The period as typed.

    Returns
    -------
    Period
        The range and the one before it.
    """
    text = text.strip().upper()
    if match := re.fullmatch(r"(\d{4})", text):
        year = int(match.group(1))
        return Period(date(year, 1, 1), date(year + 1, 1, 1), text, date(year - 1, 1, 1))
    if match := re.fullmatch(r"(\d{4})Q([1-4])", text):
        year, quarter = int(match.group(1)), int(match.group(2))
        start = date(year, 3 * quarter - 2, 1)
        return Period(start, _add_months(start, 3), text, _add_months(start, -3))
    if match := re.fullmatch(r"(\d{4})-(\d{2})", text):
        year, month = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12:
            start = date(year, month, 1)
            return Period(start, _add_months(start, 1), text, _add_months(start, -1))
    msg = f"Period {text!r} is not a year (2025), a quarter (2025Q1) or a month (2025-03)."
    raise CubeQueryError(msg)


def dimension_keys(accounts: pd.DataFrame, by: str) -> pd.Series:
    """Each account's member of dimension ``by``.

    Parameters
    ----------
    accounts
        The account facts.
    by
        A key of :data:`DIMENSIONS`.

    Returns
    -------
    Series
        Keys as text, NA where the account has none.
    """
    if by not in DIMENSIONS:
        msg = f"Unknown dimension {by!r}; choose one of {', '.join(DIMENSIONS)}."
        raise CubeQueryError(msg)
    if by in LEVEL_COLUMNS:
        return level_keys(accounts, by)
    keys = accounts[DIMENSIONS[by]]
    if by in ("territory", "trade_area", "rep"):
        keys = keys.astype("Int64").astype("string")
    return keys.astype("string")


def base_figures(
    facts: Facts, *, by: str, where: dict[str, list[str]] | None = None, period: Period | None = None
) -> pd.DataFrame:
    """Aggregate the additive figures per member of ``by``.

    Parameters
    ----------
    facts
        Accounts and won orders.
    by
        The dimension to group by.
    where
        Dimension → allowed keys (slice and dice); all must hold.
    period
        Orders counted; None for all of them (then no previous period).

    Returns
    -------
    DataFrame
        Indexed by key: :data:`BASE` columns. Accounts without a key are left out.
    """
    codes, members = facts.member_codes(by)
    if where:
        codes = np.where(slice_mask(facts, where), codes, -1)
    size = len(members)
    keyed = codes >= 0

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[keyed & mask], minlength=size)

    figures = {
        "accounts": np.bincount(codes[keyed], minlength=size),
        "customers": count(facts.statuses["customer"]),
        "prospects": count(facts.statuses["prospect"]),
        "churned": count(facts.statuses["churned"]),
    }
    ordered = order_codes(facts, codes)
    amounts = facts.orders["amount"].to_numpy(dtype=float)
    current, previous = period_masks(facts.orders, period)
    current &= ordered >= 0
    figures["revenue"] = np.bincount(ordered[current], weights=amounts[current], minlength=size)
    figures["orders"] = np.bincount(ordered[current], minlength=size)
    if period is None:
        figures["revenue_previous"] = np.full(size, np.nan)
    else:
        previous &= ordered >= 0
        figures["revenue_previous"] = np.bincount(
            ordered[previous], weights=amounts[previous], minlength=size
        )
    present = figures["accounts"] > 0
    return pd.DataFrame(
        {name: figures[name][present] for name in BASE}, index=pd.Index(members[present], name="key")
    )


def derive_measures(base: pd.DataFrame, *, market: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add the ratio measures and the market figures to base figures.

    Parameters
    ----------
    base
        :data:`BASE` columns per member.
    market
        :data:`MARKET` columns per member (same keys; missing columns or members are unknown).

    Returns
    -------
    DataFrame
        Every measure of :data:`CUBE_MEASURES`; ratios are NaN where undefined
        (no orders, no customers, no previous revenue, an unknown market figure).
    """
    figures = {name: base[name].to_numpy(dtype=float) for name in BASE}
    known = market.reindex(index=base.index, columns=list(MARKET)) if market is not None else None
    people = {
        name: known[name].to_numpy(dtype=float) if known is not None else np.full(len(base), np.nan)
        for name in MARKET
    }
    customers = figures["customers"]
    population_share = _ratio(people["population"], np.full(len(base), np.nansum(people["population"])))
    customer_share = _ratio(customers, np.full(len(base), customers.sum()))
    derived = {
        "churn_rate": 100.0 * _ratio(figures["churned"], customers + figures["churned"]),
        "avg_order_value": _ratio(figures["revenue"], figures["orders"]),
        "revenue_per_customer": _ratio(figures["revenue"], customers),
        "growth": 100.0
        * _ratio(figures["revenue"] - figures["revenue_previous"], figures["revenue_previous"]),
        "revenue_share": 100.0 * _ratio(figures["revenue"], np.full(len(base), figures["revenue"].sum())),
        "account_share": 100.0 * _ratio(figures["accounts"], np.full(len(base), figures["accounts"].sum())),
        "penetration": 10_000.0 * _ratio(customers, people["population"]),
        "penetration_households": 1_000.0 * _ratio(customers, people["households"]),
        "penetration_establishments": 100.0 * _ratio(customers, people["establishments"]),
        "revenue_per_household": _ratio(figures["revenue"], people["households"]),
        "market_index": 100.0 * _ratio(customer_share, population_share),
        **people,
    }
    out = base.copy()
    for name, values in derived.items():
        out[name] = values
    return out


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` where the denominator is positive, NaN elsewhere."""
    out = np.full(len(numerator), np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def cube(
    facts: Facts,
    *,
    by: str,
    measures: list[str],
    where: dict[str, list[str]] | None = None,
    period: Period | None = None,
    market: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Answer one cube query: ``measures`` per member of ``by``, sliced by ``where``, in ``period``.

    :func:`geo.analysis.cube_dask.distributed_cube` answers the same query on a Dask cluster.

    Parameters
    ----------
    facts
        Accounts and won orders.
    by
        Dimension (see :data:`DIMENSIONS`).
    measures
        Measures (see :data:`CUBE_MEASURES`).
    where
        Dimension → allowed keys.
    period
        Period of the order measures.
    market
        :data:`MARKET` figures per member, for the market measures.

    Returns
    -------
    DataFrame
        Indexed by key (named ``key``), one column per measure, ordered by key.
    """
    check_measures(measures)
    base = base_figures(facts, by=by, where=where, period=period)
    return select_measures(base, measures, market=market)


def check_measures(measures: list[str]) -> None:
    """Refuse measures the cube does not know, before any figure is computed.

    Parameters
    ----------
    measures
        Measures asked for.

    Raises
    ------
    CubeQueryError
        When a measure is not in :data:`CUBE_MEASURES`; the message lists the valid ones.
    """
    unknown = [m for m in measures if m not in CUBE_MEASURES]
    if unknown:
        msg = f"Unknown measure(s) {', '.join(unknown)}; choose from {', '.join(CUBE_MEASURES)}."
        raise CubeQueryError(msg)


def select_measures(
    base: pd.DataFrame, measures: list[str], *, market: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Derive the ratios from base figures and keep ``measures``, ordered by key.

    Parameters
    ----------
    base
        :data:`BASE` columns per member, as :func:`base_figures` returns them.
    measures
        Measures to keep, known ones (see :func:`check_measures`).
    market
        :data:`MARKET` figures per member, for the market measures.

    Returns
    -------
    DataFrame
        Indexed by key, one column per measure, ordered by key.
    """
    result = derive_measures(base, market=market)[measures]
    return result if result.index.is_monotonic_increasing else result.sort_index()


def roll_up(base: pd.DataFrame, parent_of: pd.Series) -> pd.DataFrame:
    """Sum base figures of a finer level into its parents.

    Parameters
    ----------
    base
        :data:`BASE` columns per child key.
    parent_of
        Child key → parent key.

    Returns
    -------
    DataFrame
        :data:`BASE` columns per parent key.
    """
    parents = base.index.to_series().map(parent_of)
    rolled = base.groupby(parents.to_numpy(dtype=object), dropna=True).sum(min_count=1)
    rolled.index.name = "key"
    return rolled.fillna({"revenue_previous": np.nan})


def drill_down(by: str, key: str) -> tuple[str, dict[str, list[str]]]:
    """Say what one level down from member ``key`` of ``by`` is: state → county → ZIP → accounts.

    Parameters
    ----------
    by
        The current level.
    key
        The member clicked.

    Returns
    -------
    tuple
        The next level and the filter that keeps to the member.
    """
    if by not in DRILL_PATH:
        msg = f"Cannot drill down from {by!r}; drill-down goes {' → '.join(['state', *DRILL_PATH.values()])}."
        raise CubeQueryError(msg)
    return DRILL_PATH[by], {by: [key]}


def pivot_time(
    facts: Facts, *, by: str, grain: str = "year", where: dict[str, list[str]] | None = None
) -> pd.DataFrame:
    """Revenue per member of ``by`` × period of ``grain`` (geography × time).

    Parameters
    ----------
    facts
        Accounts and won orders.
    by
        Dimension of the rows.
    grain
        ``year``, ``quarter`` or ``month`` for the columns.
    where
        Dimension → allowed keys.

    Returns
    -------
    DataFrame
        Rows: keys; columns: periods (``2025``, ``2025Q1``, ``2025-03``); values: revenue.
    """
    if grain not in TIME_GRAINS:
        msg = f"Unknown time grain {grain!r}; choose one of {', '.join(TIME_GRAINS)}."
        raise CubeQueryError(msg)
    codes, members = facts.member_codes(by)
    if where:
        codes = np.where(slice_mask(facts, where), codes, -1)
    ordered = order_codes(facts, codes)
    keyed = ordered >= 0
    orders = facts.orders[keyed]
    periods = orders["order_date"].dt.to_period(TIME_GRAINS[grain]).astype(str)
    table = orders.assign(key=members[ordered[keyed]], period=periods.to_numpy())
    pivot = table.pivot_table(index="key", columns="period", values="amount", aggfunc="sum", fill_value=0.0)
    pivot.columns.name = None
    return pivot


def slice_mask(facts: Facts, where: dict[str, list[str]] | None) -> np.ndarray:
    """Which accounts every filter of ``where`` keeps.

    Parameters
    ----------
    facts
        Accounts and won orders.
    where
        Dimension → allowed keys.

    Returns
    -------
    ndarray
        Boolean per account.
    """
    keep = np.ones(len(facts.accounts), dtype=bool)
    for dimension, values in (where or {}).items():
        codes, members = facts.member_codes(dimension)
        wanted = np.flatnonzero(np.isin(members, [str(v) for v in values]))
        keep &= np.isin(codes, wanted)
    return keep


def state_level_only(facts: Facts, *, by: str, where: dict[str, list[str]] | None = None) -> int:
    """Count the accounts of a slice that a query by ``by`` leaves out for being placed at state level.

    Such an account carries its state key only (no county, ZIP or H3 key): it counts by state
    but in no member of a finer geographic level.

    Parameters
    ----------
    facts
        Accounts and won orders.
    by
        The dimension of the query.
    where
        Dimension → allowed keys.

    Returns
    -------
    int
        The accounts, 0 unless ``by`` is one of :data:`FINER_THAN_STATE`.
    """
    if by not in FINER_THAN_STATE:
        return 0
    accounts = facts.accounts
    state_only = (accounts["state_fips"].notna() & accounts["county_fips"].isna()).to_numpy(dtype=bool)
    return int((state_only & slice_mask(facts, where)).sum())


def order_codes(facts: Facts, codes: np.ndarray) -> np.ndarray:
    """The member code of each order, from its account's code (-1 when none).

    Parameters
    ----------
    facts
        Accounts and won orders.
    codes
        Member code per account.

    Returns
    -------
    ndarray
        Member code per order.
    """
    rows = facts.order_rows
    return np.where(rows >= 0, codes[np.maximum(rows, 0)], -1)


def period_masks(orders: pd.DataFrame, period: Period | None) -> tuple[np.ndarray, np.ndarray]:
    """Which orders fall in the period and in the one before it.

    Parameters
    ----------
    orders
        Won orders with ``order_date``.
    period
        The period; None for all orders (and none before).

    Returns
    -------
    tuple of ndarray
        Boolean masks (current, previous).
    """
    if period is None:
        everything = np.ones(len(orders), dtype=bool)
        return everything, ~everything
    day = orders["order_date"].to_numpy()
    start, end, before = (np.datetime64(d) for d in (period.start, period.end, period.previous_start))
    return (day >= start) & (day < end), (day >= before) & (day < start)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def cube_table(result: pd.DataFrame, members: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Put member names and geometry beside a cube result.

    Parameters
    ----------
    result
        Indexed by key, one column per measure.
    members
        ``key, name, geometry`` for the same keys, as :func:`label_members` returns.

    Returns
    -------
    GeoDataFrame
        ``key, name``, the measures, ``geometry``.
    """
    table = members.merge(result, left_on="key", right_index=True, how="right")
    columns = ["key", "name", *result.columns, "geometry"]
    return gpd.GeoDataFrame(table[columns].reset_index(drop=True), geometry="geometry", crs="EPSG:4326")


ADDITIVE = tuple(column for column in BASE if column != "revenue_previous")
"""Base figures that are zero, not undefined, for a region without accounts."""


def complete_members(table: gpd.GeoDataFrame, regions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add the regions a cube result has no accounts in, with zero counts and undefined ratios.

    Parameters
    ----------
    table
        A cube table (``key, name``, measures, ``geometry``) of one level.
    regions
        All regions to show at that level: ``code``, ``name`` (as the table names
        them) and geometry.

    Returns
    -------
    GeoDataFrame
        ``table`` plus one row per missing region, ordered by key.
    """
    missing = regions[~regions["code"].isin(table["key"])]
    extra = gpd.GeoDataFrame(
        {"key": missing["code"].to_numpy(), "name": missing["name"].to_numpy()},
        geometry=missing.geometry.to_numpy(),
        crs=table.crs,
    )
    for column in table.columns.drop(["key", "name", "geometry"]):
        extra[column] = 0 if column in ADDITIVE else np.nan
    combined = pd.concat([table, extra[table.columns]], ignore_index=True)
    return gpd.GeoDataFrame(combined, geometry="geometry", crs=table.crs).sort_values(
        "key", ignore_index=True
    )


def empty_members(table: pd.DataFrame, measure: str) -> pd.Series:
    """Which members hold no accounts, for a measure of the book's own (a map draws them apart).

    Parameters
    ----------
    table
        A cube table with its ``accounts`` column (e.g. after :func:`complete_members`).
    measure
        The measure mapped. A market measure (:data:`MARKET_MEASURES`) is known where there
        are no accounts too (white space): then no member is empty.

    Returns
    -------
    Series of bool
        Aligned with ``table``.
    """
    if measure in MARKET_MEASURES:
        return pd.Series(False, index=table.index)
    return table["accounts"].fillna(0).eq(0)


def region_names(regions: gpd.GeoDataFrame, level: str) -> pd.Series:
    """Name regions the way the cube labels them: states by name, counties as "County, State".

    Parameters
    ----------
    regions
        Regions with ``name`` and ``parent_name``.
    level
        ``state`` or ``county``.

    Returns
    -------
    Series
        Labels, aligned with ``regions``.
    """
    if level == "county":
        return regions["name"] + ", " + regions["parent_name"].fillna("")
    return regions["name"]


def label_members(
    by: str,
    keys: pd.Index,
    *,
    regions: gpd.GeoDataFrame | None = None,
    zips: gpd.GeoDataFrame | None = None,
    names: pd.Series | None = None,
    shapes: gpd.GeoSeries | None = None,
    places: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Name the members of a dimension and give geographic ones their geometry.

    Parameters
    ----------
    by
        The dimension.
    keys
        Its members.
    regions
        For ``state``/``county``: regions with ``code, name, parent_name, geometry``.
    zips
        For ``zip``: the ZIP gazetteer (``zip, place, state, geometry``).
    names
        For ``rep``/``territory``/``trade_area``: key → name.
    shapes
        For ``territory``/``trade_area``: key → polygon.
    places
        For H3 levels: the populated places cells are named by (``Near Springfield, IL``, see
        :func:`geo.places.regions.h3_cell_labels`); without them a cell is named by its id.

    Returns
    -------
    GeoDataFrame
        ``key, name, geometry`` in the order of ``keys`` (geometry None where the
        dimension has none).
    """
    frame = pd.DataFrame({"key": pd.Index(keys).astype(str)})
    geometry = pd.Series([None] * len(frame), dtype=object)
    if by in ("state", "county") and regions is not None:
        table = regions.set_index("code")
        frame["name"] = frame["key"].map(region_names(table, by))
        geometry = frame["key"].map(table.geometry)
    elif by == "zip" and zips is not None:
        table = zips.set_index("zip")
        frame["name"] = (
            frame["key"] + " " + frame["key"].map(table["place"] + ", " + table["state"]).fillna("")
        )
        geometry = frame["key"].map(table.geometry)
    elif by.startswith("h3_"):
        frame["name"] = frame["key"] if places is None else h3_cell_labels(frame["key"], places)
        geometry = frame["key"].map(h3_hexagon)
    else:
        if names is not None:
            frame["name"] = frame["key"].map(names)
        if shapes is not None:
            geometry = frame["key"].map(shapes)
    frame["name"] = frame.get("name", frame["key"]).fillna(frame["key"]).str.strip()
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry.to_numpy(), crs="EPSG:4326"))


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
