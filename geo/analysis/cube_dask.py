"""The cube on a Dask cluster (``GCRM_DASK_SCHEDULER``).

The in-memory cube answers a warm query on 1M accounts and 5M orders in well under a
second; a cluster pays off when the order history outgrows one machine's memory or when
many cube queries run at once. The figures are the same as :func:`geo.analysis.cube.base_figures`:
the same member codes, the same period masks, summed per partition and then combined.
Region keys on a cluster are :mod:`geo.places.distributed_keys`.
"""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
from distributed import Client

from geo.analysis.cube import (
    BASE,
    Facts,
    Period,
    check_measures,
    order_codes,
    period_masks,
    select_measures,
    slice_mask,
)

PARTITION_ROWS = 500_000


def connect(address: str) -> Client:
    """Connect to a Dask scheduler.

    Parameters
    ----------
    address
        ``tcp://host:8786`` or any address ``distributed.Client`` accepts.

    Returns
    -------
    Client
        A client; close it when done.
    """
    return Client(address)


def distributed_cube(
    facts: Facts,
    *,
    by: str,
    measures: list[str],
    client: Client,
    where: dict[str, list[str]] | None = None,
    period: Period | None = None,
    market: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Answer one cube query on a Dask cluster: what :func:`geo.analysis.cube.cube` returns.

    Parameters
    ----------
    facts
        Accounts and won orders.
    by
        Dimension (see :data:`geo.analysis.cube.DIMENSIONS`).
    measures
        Measures (see :data:`geo.analysis.cube.CUBE_MEASURES`).
    client
        The cluster to aggregate on.
    where
        Dimension → allowed keys.
    period
        Period of the order measures.
    market
        Market figures per member (see :data:`geo.analysis.cube.MARKET`).

    Returns
    -------
    DataFrame
        Indexed by key (named ``key``), one column per measure, ordered by key.
    """
    check_measures(measures)
    base = distributed_base_figures(facts, by=by, where=where, period=period, client=client)
    return select_measures(base, measures, market=market)


def distributed_base_figures(
    facts: Facts,
    *,
    by: str,
    client: Client,
    where: dict[str, list[str]] | None = None,
    period: Period | None = None,
) -> pd.DataFrame:
    """Aggregate the additive figures per member of ``by`` on a Dask cluster.

    Parameters
    ----------
    facts
        Accounts and won orders.
    by
        The dimension to group by.
    client
        The cluster to run on.
    where
        Dimension → allowed keys.
    period
        Orders counted; None for all of them.

    Returns
    -------
    DataFrame
        Exactly what :func:`geo.analysis.cube.base_figures` returns for the same query.
    """
    codes, members = facts.member_codes(by)
    if where:
        codes = np.where(slice_mask(facts, where), codes, -1)
    accounts = pd.DataFrame(
        {
            "code": codes,
            "accounts": 1,
            "customers": facts.statuses["customer"].astype("int64"),
            "prospects": facts.statuses["prospect"].astype("int64"),
            "churned": facts.statuses["churned"].astype("int64"),
        }
    )
    current, previous = period_masks(facts.orders, period)
    orders = pd.DataFrame(
        {
            "code": order_codes(facts, codes),
            "revenue": np.where(current, facts.orders["amount"].to_numpy(dtype=float), 0.0),
            "orders": current.astype("int64"),
            "revenue_previous": np.where(previous, facts.orders["amount"].to_numpy(dtype=float), 0.0),
        }
    )
    account_sums = _grouped(accounts, ["accounts", "customers", "prospects", "churned"])
    order_sums = _grouped(orders, ["revenue", "orders", "revenue_previous"])
    account_sums, order_sums = client.compute([account_sums, order_sums], sync=True)
    base = account_sums.reindex(range(len(members)), fill_value=0).join(
        order_sums.reindex(range(len(members)), fill_value=0)
    )
    base.index = pd.Index(members, name="key")
    if period is None:
        base["revenue_previous"] = np.nan
    base = base.astype(
        {
            "accounts": "int64",
            "customers": "int64",
            "prospects": "int64",
            "churned": "int64",
            "orders": "int64",
        }
    )
    return base.loc[base["accounts"] > 0, BASE]


def _grouped(frame: pd.DataFrame, columns: list[str]) -> dd.Series:
    partitions = max(1, len(frame) // PARTITION_ROWS)
    table = dd.from_pandas(frame[frame["code"] >= 0], npartitions=partitions)
    return table.groupby("code")[columns].sum()
