"""Run an alignment on the stored book: units and their measures in, territories and a report out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from scipy.optimize import linear_sum_assignment

from geo.analysis.cube import MARKET, region_names
from geo.analysis.market_answers import unit_market
from geo.analysis.tradeareas import nearest_cells
from geo.errors import AccessDenied, AlignmentError
from geo.places.geodesy import METRIC_CRS, destinations
from geo.roads.travel import trip_seconds
from geo.store.boundaries import load_regions
from geo.store.db import Database
from geo.store.shipped_data import read_zips
from territories.align import Alignment, Progress, align_territories
from territories.graph import unit_centroids, unit_graph
from territories.metrics import alignment_report
from territories.model import PLANNERS_ONLY, load_book, may_plan

BALANCE_MEASURES = ("accounts", "revenue", "workload", *MARKET)
"""What an alignment may balance: the book's figures, and the market's (the units' potential)."""
TRIP_DIRECTIONS = (0.0, 90.0, 180.0, 270.0)
"""Bearings of the sample trips that measure a unit's typical drive between accounts."""
LOWER_48_EXCLUDED = ("02", "15", "60", "66", "69", "72", "78")
"""State FIPS outside the contiguous US (Alaska, Hawaii, territories)."""


@dataclass(frozen=True)
class AlignmentResult:
    """What an alignment proposes.

    Attributes
    ----------
    units
        One row per unit: ``code, name, territory`` (label 0 … k-1), the measures, geometry.
    report
        Per territory, as :func:`territories.metrics.alignment_report` returns.
    alignment
        The raw alignment.
    """

    units: gpd.GeoDataFrame
    report: pd.DataFrame
    alignment: Alignment


def parse_units(text: str) -> str:
    """Read ``county``, ``zip`` or ``h3:R`` (R 5–9) as a unit level.

    Parameters
    ----------
    text
        As typed.

    Returns
    -------
    str
        ``county``, ``zip`` or ``h3_R``.
    """
    text = text.strip().lower()
    if text in ("county", "zip"):
        return text
    if text.startswith("h3:") and text[3:].isdigit() and 5 <= int(text[3:]) <= 9:
        return f"h3_{int(text[3:])}"
    msg = f"--units {text!r}: write county, zip or h3:R with R from 5 to 9."
    raise AlignmentError(msg)


def unit_measures(book: pd.DataFrame) -> pd.DataFrame:
    """Sum the accounts' figures per unit.

    Parameters
    ----------
    book
        As :func:`territories.model.load_book` returns.

    Returns
    -------
    DataFrame
        Indexed by unit: ``accounts, customers, revenue, visits, visit_minutes``.
    """
    keyed = book[book["unit"].notna()].assign(customer=book["status"].eq("customer"))
    return keyed.groupby("unit").agg(
        accounts=("account_id", "size"),
        customers=("customer", "sum"),
        revenue=("revenue", "sum"),
        visits=("visits", "sum"),
        visit_minutes=("visit_minutes", "sum"),
    )


def account_spacing_m(units: gpd.GeoDataFrame) -> np.ndarray:
    """The typical distance between a unit's accounts: ``√(area / accounts)``.

    Parameters
    ----------
    units
        ``accounts`` and polygons.

    Returns
    -------
    ndarray
        Metres, one per unit.
    """
    area_m2 = units.geometry.to_crs(METRIC_CRS).area.to_numpy()
    return np.sqrt(area_m2 / np.maximum(units["accounts"].to_numpy(dtype=float), 1))


def add_workload(units: gpd.GeoDataFrame, trip_minutes: np.ndarray) -> gpd.GeoDataFrame:
    """Add ``workload`` in minutes: visit time plus, per visit, the unit's typical trip there and back.

    Parameters
    ----------
    units
        ``visits, visit_minutes``.
    trip_minutes
        One way of a typical trip between the unit's accounts, per unit.

    Returns
    -------
    GeoDataFrame
        With ``workload``.
    """
    return units.assign(workload=units["visit_minutes"] + units["visits"] * 2 * np.asarray(trip_minutes))


def unit_trip_minutes(db: Database, units: gpd.GeoDataFrame, *, user: str) -> tuple[np.ndarray, np.ndarray]:
    """The typical one-way drive between a unit's accounts, by road where a network covers the unit.

    The trip is the accounts' spacing (:func:`account_spacing_m`) from the unit's
    representative point in four directions (:data:`TRIP_DIRECTIONS`), their mean drive
    time; elsewhere the estimate of :mod:`geo.roads.estimate`.

    Parameters
    ----------
    db
        The database.
    units
        ``accounts`` and polygons.
    user
        The acting user.

    Returns
    -------
    tuple
        Minutes per unit, and whether each was measured by road.
    """
    centres = units.geometry.representative_point()
    spacing = account_spacing_m(units)
    ends = []
    for bearing in TRIP_DIRECTIONS:
        lon, lat = destinations(centres.x.to_numpy(), centres.y.to_numpy(), bearing, spacing)
        ends.append(pd.DataFrame({"lon": lon, "lat": lat}))
    seconds, by_road = trip_seconds(
        db, pd.DataFrame({"lon": centres.x.to_numpy(), "lat": centres.y.to_numpy()}), ends, user=user
    )
    return seconds.mean(axis=1) / 60, by_road


def unit_shapes(
    db: Database, data_dir: Path, level: str, codes: pd.Index, *, user: str, states: list[str] | None = None
) -> gpd.GeoDataFrame:
    """Polygons of the units: counties as stored; ZIPs and H3 cells as the land nearest to them.

    Counties come all (those without accounts too, so territories stay whole). ZIPs and
    H3 cells come where accounts are, each owning the part of the study area nearer its
    centre than any other unit's (its Voronoi cell clipped to the states): no ZIP polygons
    ship, and cells holding accounts are scattered, so this is what makes "shared borders"
    meaningful for them — a territory of cells is then one piece of land.

    Parameters
    ----------
    db
        The database.
    data_dir
        The shipped data directory.
    level
        ``county``, ``zip`` or ``h3_R``.
    codes
        Units holding accounts.
    user
        The acting user.
    states
        State FIPS codes to keep (None: all).

    Returns
    -------
    GeoDataFrame
        ``code, name, geometry`` in EPSG:4326.
    """
    if level == "county":
        counties = load_regions(db, "county", user=user)
        if states is not None:
            counties = counties[counties["parent_code"].isin(states)]
        return county_units(counties)
    regions = load_regions(db, "state", user=user)
    if states is not None:
        regions = regions[regions["code"].isin(states)]
    if level == "zip":
        zips = read_zips(data_dir).set_index("zip").loc[lambda z: z.index.isin(codes)]
        names = (zips.index + " " + zips["place"].fillna("")).to_numpy()
        return nearest_land(zips.index.to_numpy(), names, zips.geometry, regions.union_all())
    centres = [h3.cell_to_latlng(cell) for cell in codes]
    points = gpd.GeoSeries(shapely.points([(lng, lat) for lat, lng in centres]), crs="EPSG:4326")
    return nearest_land(np.asarray(codes), np.asarray(codes), points, regions.union_all())


def county_units(counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Counties as territory units: those with a shape, named "County, State".

    Parameters
    ----------
    counties
        County regions as :func:`geo.store.boundaries.load_regions` returns them.

    Returns
    -------
    GeoDataFrame
        ``code, name, geometry``.
    """
    drawn = counties[~(counties.geometry.isna() | counties.geometry.is_empty)]
    return gpd.GeoDataFrame(
        {"code": drawn["code"].to_numpy(), "name": region_names(drawn, "county").to_numpy()},
        geometry=drawn.geometry.to_numpy(),
        crs="EPSG:4326",
    )


def nearest_land(
    codes: np.ndarray, names: np.ndarray, points: gpd.GeoSeries, land: shapely.Geometry
) -> gpd.GeoDataFrame:
    """Give each point the part of ``land`` nearer to it than to any other point (Voronoi, clipped).

    Parameters
    ----------
    codes, names
        Per point.
    points
        Unit centres (EPSG:4326).
    land
        The study area (EPSG:4326).

    Returns
    -------
    GeoDataFrame
        ``code, name, geometry`` for the points whose cell touches the land.
    """
    frame = gpd.GeoDataFrame(
        {"code": codes, "name": names}, geometry=nearest_cells(points, land).to_numpy(), crs="EPSG:4326"
    )
    return frame[~(frame.geometry.isna() | frame.geometry.is_empty)].reset_index(drop=True)


def load_units(
    db: Database, data_dir: Path, level: str, *, user: str, states: list[str] | None = None
) -> gpd.GeoDataFrame:
    """Fetch the units of the study area with their measures (accounts, revenue, workload …).

    Parameters
    ----------
    db
        The database.
    data_dir
        The shipped data directory.
    level
        ``county``, ``zip`` or ``h3_R``.
    user
        The acting user.
    states
        State FIPS codes of the study area (None: every state).

    Returns
    -------
    GeoDataFrame
        ``code, name``, the columns of :func:`unit_measures`, ``workload`` and the unit
        polygon, indexed 0 … n-1.
    """
    book = load_book(db, level, user=user)
    if states is not None and level != "county":
        book = _in_states(book, db, states, user=user)
    figures = unit_measures(book)
    shapes = unit_shapes(db, data_dir, level, figures.index, user=user, states=states)
    units = shapes.merge(figures, left_on="code", right_index=True, how="left")
    units[figures.columns] = units[figures.columns].fillna(0)
    trip_minutes, by_road = unit_trip_minutes(db, units, user=user)
    return add_workload(units, trip_minutes).assign(workload_by_road=by_road).reset_index(drop=True)


def lower_48_states(db: Database, *, user: str) -> list[str]:
    """State FIPS codes of the contiguous US, from the stored boundaries.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    list of str
        Codes of every stored state but Alaska, Hawaii and the territories.
    """
    with db.transaction(user=user) as cur:
        cur.execute("SELECT code FROM regions WHERE level = 'state' ORDER BY code")
        return [code for (code,) in cur.fetchall() if code not in LOWER_48_EXCLUDED]


def propose_alignment(
    db: Database,
    data_dir: Path,
    *,
    level: str,
    k: int,
    measures: list[str],
    user: str,
    tolerance: float = 0.05,
    seed: int = 0,
    states: list[str] | None = None,
    locks: dict[str, int] | None = None,
    current: pd.Series | None = None,
    progress: Progress | None = None,
) -> AlignmentResult:
    """Align the units of the stored book into ``k`` territories.

    Parameters
    ----------
    db
        The database.
    data_dir
        The shipped data directory.
    level
        ``county``, ``zip`` or ``h3_R``.
    k
        Number of territories.
    measures
        Measures to balance (see :data:`BALANCE_MEASURES`); several are balanced through
        the mean of their shares.
    user
        The acting user.
    tolerance
        Allowed deviation from the mean.
    seed
        Seed for determinism.
    states
        State FIPS codes of the study area (None: every state).
    locks
        Unit code → territory label (0 … k-1) that must hold.
    current
        Unit code → territory label in the active version, to report what moves.
    progress
        Told each step as it starts, with the share of the work done (0 … 1).

    Returns
    -------
    AlignmentResult
        Units with their territory, and the report.

    Raises
    ------
    AccessDenied
        For a user who may not plan (see :func:`territories.model.may_plan`): an alignment
        of the part of the book they see would balance the rest unseen.
    """
    if not may_plan(db, user=user):
        raise AccessDenied(PLANNERS_ONLY)
    unknown = [m for m in measures if m not in BALANCE_MEASURES]
    if unknown or not measures:
        msg = f"--balance {','.join(measures)}: choose from {', '.join(BALANCE_MEASURES)}."
        raise AlignmentError(msg)
    tell = progress or (lambda _what, _done: None)
    tell("Loading the units and their measures", 0.0)
    units = load_units(db, data_dir, level, user=user, states=states)
    market = [m for m in measures if m in MARKET]
    if market:
        figures = unit_market(db, data_dir, level, user=user, states=states)
        units[market] = figures.reindex(units["code"].to_numpy(), columns=market).fillna(0.0).to_numpy()
    tell("Finding which units touch", 0.05)
    graph = unit_graph(units)
    weights = _combined(units, measures)
    position = pd.Series(np.arange(len(units)), index=units["code"])
    lock_positions = {int(position[c]): t for c, t in (locks or {}).items() if c in position.index}
    alignment = align_territories(
        weights,
        graph,
        unit_centroids(units),
        k=k,
        tolerance=tolerance,
        seed=seed,
        locks=lock_positions,
        progress=lambda what, done: tell(what, 0.1 + 0.85 * done),
    )
    tell("Measuring the territories", 0.95)
    labels = alignment.labels
    previous = None
    if current is not None:
        previous = units["code"].map(current).fillna(-1).to_numpy(dtype=int)
        if not lock_positions:
            mapping = match_labels(labels, previous, units["accounts"].to_numpy(dtype=float), k)
            oversized = np.empty(k, dtype=bool)
            oversized[mapping] = alignment.oversized
            unbalanceable = np.empty(k, dtype=bool)
            unbalanceable[mapping] = alignment.unbalanceable
            alignment = Alignment(mapping[labels], oversized, alignment.target, unbalanceable)
            labels = alignment.labels
    units["territory"] = labels
    report = alignment_report(
        units,
        labels,
        graph,
        measures=list(measures),
        oversized=alignment.oversized,
        unbalanceable=alignment.unbalanceable,
        current=previous,
    )
    return AlignmentResult(units=units, report=report, alignment=alignment)


def match_labels(labels: np.ndarray, previous: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Number new territories so that each keeps the number of the old one it overlaps most.

    Parameters
    ----------
    labels
        New territory per unit (0 … k-1).
    previous
        Old territory per unit (0 … k-1, -1 where none).
    weights
        What overlap counts (accounts per unit).
    k
        Number of territories.

    Returns
    -------
    ndarray
        New number of each label: ``mapping[labels]`` renumbers (the partition is unchanged).
    """
    overlap = np.zeros((k, k))
    known = (previous >= 0) & (previous < k)
    np.add.at(overlap, (labels[known], previous[known]), weights[known])
    rows, cols = linear_sum_assignment(-overlap)
    mapping = np.empty(k, dtype=np.int64)
    mapping[rows] = cols
    return mapping


def plan_labels(plan: pd.Series, ids: list[int] | pd.Index) -> pd.Series:
    """Number a plan's territories as an alignment does: 0 … n-1 in the order of ``ids``.

    Parameters
    ----------
    plan
        Unit code → territory id.
    ids
        The territory ids, in label order.

    Returns
    -------
    Series
        Unit code → label; units of territories not in ``ids`` left out.
    """
    return plan.map(_label_of(ids)).dropna().astype(int)


def lock_labels(plan: pd.Series, locked: set[str], ids: list[int] | pd.Index) -> dict[str, int]:
    """The labels (see :func:`plan_labels`) that locked units keep in an alignment.

    Parameters
    ----------
    plan
        Unit code → territory id.
    locked
        Codes of the locked units.
    ids
        The territory ids, in label order.

    Returns
    -------
    dict
        Locked unit code → label; units outside the plan or its territories left out.
    """
    label_of = _label_of(ids)
    return {unit: int(label_of[plan[unit]]) for unit in locked if plan.get(unit) in label_of.index}


def labelled_plan(codes: pd.Series, labels: pd.Series, ids: list[int] | pd.Index) -> pd.Series:
    """Turn an alignment's labels back into a plan: each unit with its territory id.

    Parameters
    ----------
    codes
        Unit codes (``AlignmentResult.units["code"]``).
    labels
        Their labels, 0 … n-1 (``AlignmentResult.units["territory"]``).
    ids
        The territory ids, in label order.

    Returns
    -------
    Series
        Unit code → territory id.
    """
    return pd.Series(np.asarray(ids)[labels.to_numpy()], index=codes.to_numpy())


def _label_of(ids: list[int] | pd.Index) -> pd.Series:
    return pd.Series(range(len(ids)), index=ids)


def _combined(units: pd.DataFrame, measures: list[str]) -> np.ndarray:
    shares = [units[m].to_numpy(dtype=float) / max(units[m].sum(), 1e-12) for m in measures]
    return np.mean(shares, axis=0) * len(units)


def _in_states(book: pd.DataFrame, db: Database, states: list[str], *, user: str) -> pd.DataFrame:
    with db.transaction(user=user) as cur:
        cur.execute("SELECT account_id FROM accounts WHERE state_fips = ANY(%s)", (list(states),))
        keep = {row[0] for row in cur.fetchall()}
    return book[book["account_id"].isin(keep)]
