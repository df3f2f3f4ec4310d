"""Where the book could be and is not: expected customers, the opportunity score, white space.

The expected customers of a region are its market (people, households, jobs or
establishments, the denominator a user picks for a B2C or B2B book) times the book's own
penetration in comparable regions: the customers per unit of market summed over the regions
of the same comparison group (metropolitan or not, where the level carries that fact; else
every region of the level). The opportunity is expected minus actual customers, so the
opportunities of a group add up to zero; white space is the regions with the largest
positive opportunity and no account visited recently.
"""

from __future__ import annotations

import pandas as pd

from geo.errors import CubeQueryError

DENOMINATORS = {
    "population": "people",
    "households": "households",
    "jobs": "jobs located there",
    "establishments": "business establishments",
}
"""Market figure a penetration may be measured against → what it counts."""
DEFAULT_DENOMINATOR = "establishments"
"""The demo book sells to businesses."""
WHITE_SPACE_COLUMNS = ["key", "name", "market", "customers", "expected", "opportunity", "visited"]


def check_denominator(denominator: str) -> str:
    """Refuse a denominator that is not a market figure; the message lists them.

    Parameters
    ----------
    denominator
        As typed, any case.

    Returns
    -------
    str
        The denominator's name.
    """
    name = denominator.strip().lower()
    if name not in DENOMINATORS:
        msg = f"Unknown denominator {denominator!r}; choose one of {', '.join(DENOMINATORS)}."
        raise CubeQueryError(msg)
    return name


def opportunity(customers: pd.Series, market: pd.Series, groups: pd.Series | None = None) -> pd.DataFrame:
    """Expected customers from the book's penetration in comparable regions, and the gap.

    Parameters
    ----------
    customers
        Customers per region (0 where the book has none).
    market
        The denominator per region (same index); NaN where unknown.
    groups
        Comparison group per region (e.g. the metro flag); None for one group.

    Returns
    -------
    DataFrame
        ``expected, opportunity`` per region; NaN where the market is unknown, or the
        group's market is empty.
    """
    frame = pd.DataFrame({"customers": customers.astype(float), "market": market.astype(float)})
    frame["group"] = groups.reindex(frame.index).fillna(-1) if groups is not None else 0
    known = frame[frame["market"].notna()]
    totals = known.groupby("group")[["customers", "market"]].sum()
    rate = (totals["customers"] / totals["market"].where(totals["market"] > 0)).rename("rate")
    expected = frame["market"] * frame["group"].map(rate)
    return pd.DataFrame({"expected": expected, "opportunity": expected - frame["customers"]})


def white_space(regions: pd.DataFrame, *, limit: int) -> pd.DataFrame:
    """The regions with the largest opportunity that no one visited recently, best first.

    Parameters
    ----------
    regions
        ``key, name, market, customers, expected, opportunity, visited`` (accounts
        visited recently) per region.
    limit
        Regions to keep.

    Returns
    -------
    DataFrame
        :data:`WHITE_SPACE_COLUMNS`, positive opportunities only, ordered by opportunity
        (ties by key).
    """
    open_space = regions[(regions["opportunity"] > 0) & (regions["visited"] == 0)]
    ranked = open_space.sort_values(["opportunity", "key"], ascending=[False, True], kind="stable")
    return ranked[WHITE_SPACE_COLUMNS].head(limit).reset_index(drop=True)
