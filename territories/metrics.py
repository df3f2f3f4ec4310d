"""Territory metrics: balance, compactness, contiguity, and the KPIs per territory and rep.

- **Deviation** of a territory: its measure against the mean of the territories that are
  not a single oversized unit, in percent.
- **Balance index**: the mean measure divided by the largest (1 = perfectly balanced).
- **Compactness**: Polsby–Popper, ``4πA / P²`` of the territory's outline in an equal-area
  CRS (1 for a disc, near 0 for a thin strip).
- **Contiguity**: one connected piece in the unit graph (:mod:`territories.graph`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from geo.places.geodesy import METRIC_CRS

KPI_COLUMNS = [
    "accounts",
    "customers",
    "revenue",
    "revenue_previous",
    "growth",
    "pipeline",
    "visits",
    "quota",
    "quota_attainment",
    "population",
    "penetration",
]


def polsby_popper(geometry: gpd.GeoSeries) -> pd.Series:
    """Polsby–Popper compactness of each shape, measured in an equal-area CRS.

    Parameters
    ----------
    geometry
        Polygons in any CRS.

    Returns
    -------
    Series
        ``4πA / P²`` per shape, aligned with ``geometry``.
    """
    metric = geometry.to_crs(METRIC_CRS)
    perimeter = metric.length.to_numpy()
    area = metric.area.to_numpy()
    values = np.divide(4 * np.pi * area, perimeter**2, out=np.zeros(len(area)), where=perimeter > 0)
    return pd.Series(values, index=geometry.index)


def contiguous(labels: np.ndarray, graph: sparse.csr_matrix, territory: int) -> bool:
    """Whether the units of ``territory`` form one connected piece in the unit graph.

    Parameters
    ----------
    labels
        Territory per unit.
    graph
        Unit adjacency.
    territory
        The territory checked.

    Returns
    -------
    bool
        True for one piece (an empty territory is not contiguous).
    """
    members = np.flatnonzero(labels == territory)
    if not len(members):
        return False
    count, _ = connected_components(graph[members][:, members], directed=False)
    return count == 1


def balance_index(measures: pd.Series) -> float:
    """Mean over maximum of a measure across territories (1 = perfectly balanced).

    Parameters
    ----------
    measures
        The measure per territory.

    Returns
    -------
    float
        In [0, 1]; NaN when there is nothing to balance.
    """
    largest = float(measures.max()) if len(measures) else 0.0
    return float(measures.mean() / largest) if largest > 0 else float("nan")


def alignment_report(
    units: gpd.GeoDataFrame,
    labels: np.ndarray,
    graph: sparse.csr_matrix,
    *,
    measures: list[str],
    oversized: np.ndarray | None = None,
    unbalanceable: np.ndarray | None = None,
    current: np.ndarray | None = None,
    moving: list[str] = ("accounts", "revenue"),
) -> pd.DataFrame:
    """Per territory: measures, deviation from the mean, compactness, contiguity and what moves.

    Parameters
    ----------
    units
        One row per unit with the measure columns and geometry.
    labels
        Territory per unit (0 … k-1).
    graph
        Unit adjacency.
    measures
        Columns of ``units`` that were balanced.
    oversized
        Per territory: a single unit larger than the target (excluded from the mean).
    unbalanceable
        Per territory: proved unable to come within the tolerance.
    current
        Territory per unit in the active version (-1 where none), to count what would move.
    moving
        Columns of ``units`` summed over the units that change territory.

    Returns
    -------
    DataFrame
        Indexed by territory: ``units``, each measure and its ``deviation_<measure>`` (%),
        ``oversized``, ``cannot_balance``, ``compactness``, ``contiguous`` and ``moving_<column>`` (units that
        come from another territory of the active version).
    """
    k = int(labels.max()) + 1 if len(labels) else 0
    oversized = np.zeros(k, dtype=bool) if oversized is None else np.asarray(oversized, dtype=bool)
    frame = units.drop(columns=units.geometry.name).assign(territory=labels)
    report = frame.groupby("territory").agg(units=("territory", "size"), **{m: (m, "sum") for m in measures})
    report = report.reindex(range(k), fill_value=0)
    report["oversized"] = oversized[:k]
    report["cannot_balance"] = (
        np.zeros(k, dtype=bool) if unbalanceable is None else np.asarray(unbalanceable)[:k]
    )
    for measure in measures:
        mean = report.loc[~report["oversized"], measure].mean()
        report[f"deviation_{measure}"] = 100.0 * (report[measure] / mean - 1) if mean > 0 else np.nan
    outlines = gpd.GeoSeries(
        [shapely.union_all(units.geometry.to_numpy()[labels == t]) for t in range(k)], crs=units.crs
    )
    report["compactness"] = polsby_popper(outlines).to_numpy()
    report["contiguous"] = [contiguous(labels, graph, t) for t in range(k)]
    if current is not None:
        moved = frame[np.asarray(current) != labels]
        for column in moving:
            if column in moved:
                report[f"moving_{column}"] = (
                    moved.groupby("territory")[column].sum().reindex(range(k)).fillna(0)
                )
    report.index.name = "territory"
    return report


def territory_kpis(accounts: pd.DataFrame, territories: pd.DataFrame) -> pd.DataFrame:
    """KPIs per territory from per-account figures.

    Parameters
    ----------
    accounts
        One row per account: ``territory_id, status, revenue, revenue_previous, pipeline, visits``.
    territories
        Indexed by ``territory_id``: ``name, rep_name``, optional ``quota`` and ``population``.

    Returns
    -------
    DataFrame
        Indexed by territory: ``name, rep_name`` and :data:`KPI_COLUMNS` (growth and
        attainment in %, penetration in customers per 10,000 people).
    """
    keyed = accounts[accounts["territory_id"].notna()].assign(customer=accounts["status"].eq("customer"))
    sums = keyed.groupby("territory_id").agg(
        accounts=("status", "size"),
        customers=("customer", "sum"),
        revenue=("revenue", "sum"),
        revenue_previous=("revenue_previous", "sum"),
        pipeline=("pipeline", "sum"),
        visits=("visits", "sum"),
    )
    table = territories.join(sums, how="left")
    for column in ("accounts", "customers", "revenue", "revenue_previous", "pipeline", "visits"):
        table[column] = table[column].fillna(0)
    previous = table["revenue_previous"].where(table["revenue_previous"] > 0)
    table["growth"] = 100.0 * (table["revenue"] - previous) / previous
    quota = table["quota"] if "quota" in table else pd.Series(np.nan, index=table.index)
    table["quota"] = quota
    table["quota_attainment"] = 100.0 * table["revenue"] / quota.where(quota > 0)
    population = table["population"] if "population" in table else pd.Series(np.nan, index=table.index)
    table["population"] = population
    table["penetration"] = 10_000.0 * table["customers"] / population.where(population > 0)
    return table[["name", "rep_name", *KPI_COLUMNS]]


def rep_kpis(kpis: pd.DataFrame) -> pd.DataFrame:
    """Roll territory KPIs up to their reps.

    Parameters
    ----------
    kpis
        As :func:`territory_kpis` returns.

    Returns
    -------
    DataFrame
        Indexed by ``rep_name``: the additive KPIs summed, growth and attainment recomputed,
        and ``territories`` (how many each rep holds).
    """
    additive = ["accounts", "customers", "revenue", "revenue_previous", "pipeline", "visits", "quota"]
    reps = kpis.groupby(kpis["rep_name"].fillna("(no rep)"))[additive].sum(min_count=1)
    reps["territories"] = kpis.groupby(kpis["rep_name"].fillna("(no rep)")).size()
    previous = reps["revenue_previous"].where(reps["revenue_previous"] > 0)
    reps["growth"] = 100.0 * (reps["revenue"] - previous) / previous
    reps["quota_attainment"] = 100.0 * reps["revenue"] / reps["quota"].where(reps["quota"] > 0)
    return reps
