"""Territory plans as data: which territory each account gets, what-if previews, gaps and overlaps.

A plan maps units (counties, ZIPs or H3 cells) to territories. An account follows the
plan through its unit, unless a manual override pins it to a territory: overrides are
kept apart from the geographic rule and survive every plan change.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import TerritoryError
from territories.metrics import KPI_COLUMNS, territory_kpis


def plan_accounts(book: pd.DataFrame, assignment: pd.Series) -> pd.DataFrame:
    """Give every account the territory the plan implies.

    Parameters
    ----------
    book
        One row per account: ``unit``, ``override`` (bool) and ``territory_id`` (the stored
        one, kept for overrides), plus the figures :func:`territory_kpis` sums.
    assignment
        Unit code → territory id.

    Returns
    -------
    DataFrame
        ``book`` with ``territory_id`` set from the plan (overrides unchanged; NA where the
        unit has no territory) and ``rule`` = ``override`` or ``unit``.
    """
    planned = book["unit"].map(assignment).astype("Int64")
    override = book["override"].fillna(False).astype(bool)
    out = book.assign(territory_id=planned.where(~override, book["territory_id"].astype("Int64")))
    out["rule"] = np.where(override, "override", "unit")
    return out


def apply_moves(
    assignment: pd.Series, moves: dict[str, int], *, locked: set[str], frozen: set[int]
) -> pd.Series:
    """Move units between territories, refusing locked units and locked territories.

    Parameters
    ----------
    assignment
        Unit code → territory id.
    moves
        Unit code → new territory id.
    locked
        Units that may not move.
    frozen
        Territories that neither give nor take units.

    Returns
    -------
    Series
        The new assignment.
    """
    out = assignment.copy()
    for unit, territory in moves.items():
        if unit in locked:
            msg = f"Unit {unit} is locked; unlock it before moving it."
            raise TerritoryError(msg)
        source = out.get(unit)
        touched = {int(territory), *([int(source)] if source is not None and not pd.isna(source) else [])}
        if touched & frozen:
            msg = f"Territory {sorted(touched & frozen)[0]} is locked; unlock it before moving {unit}."
            raise TerritoryError(msg)
        out.loc[unit] = int(territory)
    return out.astype("int64")


def preview(
    book: pd.DataFrame, before: pd.Series, after: pd.Series, territories: pd.DataFrame
) -> pd.DataFrame:
    """Every KPI per territory before and after a change, and the difference.

    Parameters
    ----------
    book
        Per-account figures and units (see :func:`plan_accounts`).
    before, after
        Unit code → territory id.
    territories
        Indexed by territory id: ``name, rep_name`` (``quota``, ``population`` optional).

    Returns
    -------
    DataFrame
        Columns ``(kpi, "before" | "after" | "change")`` per territory.
    """
    old = territory_kpis(plan_accounts(book, before), territories)[KPI_COLUMNS]
    new = territory_kpis(plan_accounts(book, after), territories)[KPI_COLUMNS]
    parts = {"before": old, "after": new, "change": new - old}
    table = pd.concat(parts, axis=1).swaplevel(axis=1)
    return table[[(kpi, part) for kpi in KPI_COLUMNS for part in parts]]


def gaps(book: pd.DataFrame, assignment: pd.Series) -> pd.DataFrame:
    """Units that hold accounts but belong to no territory.

    Parameters
    ----------
    book
        Per-account ``unit`` (and ``override``).
    assignment
        Unit code → territory id.

    Returns
    -------
    DataFrame
        ``unit, accounts``, most accounts first.
    """
    routed = book[~book["override"].fillna(False).astype(bool) & book["unit"].notna()]
    missing = routed[~routed["unit"].isin(assignment.index)]
    counts = missing.groupby("unit").size().rename("accounts").reset_index()
    return counts.sort_values(["accounts", "unit"], ascending=[False, True], ignore_index=True)


def overlaps(book: pd.DataFrame, shapes_of_account: pd.DataFrame, assignment: pd.Series) -> pd.DataFrame:
    """Accounts claimed by more than one territory (two drawn shapes, or a shape and a unit).

    Parameters
    ----------
    book
        Per-account ``account_id, unit``.
    shapes_of_account
        ``account_id, territory_id``: the drawn territory shapes each account lies in.
    assignment
        Unit code → territory id.

    Returns
    -------
    DataFrame
        ``account_id`` and ``territories`` (sorted ids), one row per account claimed twice.
    """
    by_unit = book[["account_id", "unit"]].assign(territory_id=book["unit"].map(assignment))
    claims = pd.concat([by_unit[["account_id", "territory_id"]], shapes_of_account], ignore_index=True)
    claims = claims.dropna().drop_duplicates()
    claimed = claims.groupby("account_id")["territory_id"].agg(lambda s: tuple(sorted(int(v) for v in s)))
    twice = claimed[claimed.map(len) > 1]
    return twice.rename("territories").reset_index()


def plan_diff(
    book: pd.DataFrame, before: pd.Series, after: pd.Series, territories: pd.DataFrame
) -> pd.DataFrame:
    """What a plan changes against another, per territory: units and accounts gained and lost.

    Parameters
    ----------
    book
        Per-account ``unit, override, territory_id, revenue`` (see :func:`plan_accounts`).
    before, after
        Unit code → territory id (typically the active plan and a draft).
    territories
        Indexed by territory id: ``name``.

    Returns
    -------
    DataFrame
        Per territory: ``name, units_gained, units_lost, accounts_gained, accounts_lost,
        revenue_gained, revenue_lost``; only territories that change.
    """
    units = pd.DataFrame({"before": before, "after": after})
    moved_units = units[units["before"].ne(units["after"])]
    old = plan_accounts(book, before)["territory_id"]
    new = plan_accounts(book, after)["territory_id"]
    moved = book.assign(before=old, after=new)[old.ne(new).fillna(old.isna() != new.isna())]
    table = pd.DataFrame(index=territories.index)
    table["name"] = territories["name"]
    table["units_gained"] = moved_units.groupby("after").size()
    table["units_lost"] = moved_units.groupby("before").size()
    table["accounts_gained"] = moved.groupby("after").size()
    table["accounts_lost"] = moved.groupby("before").size()
    table["revenue_gained"] = moved.groupby("after")["revenue"].sum()
    table["revenue_lost"] = moved.groupby("before")["revenue"].sum()
    counts = table.columns.drop("name")
    table[counts] = table[counts].fillna(0)
    return table[(table[counts] != 0).any(axis=1)]


def outlines(units: gpd.GeoDataFrame, assignment: pd.Series) -> gpd.GeoDataFrame:
    """Dissolve units into one outline per territory.

    Parameters
    ----------
    units
        ``code`` and polygons.
    assignment
        Unit code → territory id.

    Returns
    -------
    GeoDataFrame
        ``territory_id`` and the territory's outline.
    """
    placed = units.assign(territory_id=units["code"].map(assignment)).dropna(subset=["territory_id"])
    placed["territory_id"] = placed["territory_id"].astype("int64")
    dissolved = placed[["territory_id", "geometry"]].dissolve(by="territory_id")
    return dissolved.reset_index()
