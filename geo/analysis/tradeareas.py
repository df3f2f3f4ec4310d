"""Trade areas per branch, and what they hold.

Methods
-------
- **Rings**: every account within a radius, measured on the sphere (haversine); the
  polygon is a geodesic buffer drawn in an azimuthal-equidistant projection centred
  on the branch.
- **Customer-derived**: the ring around a branch holding a share of its customers
  (each customer belongs to its nearest branch).
- **Threshold rings**: the smallest ring reaching N customers, or an amount of revenue.
- **Nearest branch** (Voronoi): cells of the branches in a metric CRS, clipped to the
  study area.
- **Huff gravity model** (Huff 1963): the probability that demand at location *i*
  patronises branch *j* is ``A_j d_ij^-β / Σ_k A_k d_ik^-β``; β can be fitted by
  maximum likelihood from observed choices.

All functions are pure: they take and return (Geo)DataFrames in EPSG:4326.
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo.places.geodesy import (
    EARTH_RADIUS_M,
    METRIC_CRS,
    distance_matrix,
    geodesic_circle,
    haversine_m,
)
from geo.places.regions import h3_cells, h3_hexagon

HUFF_BETA_GRID = np.round(np.arange(0.25, 4.01, 0.05), 2)
"""Distance-decay exponents tried when fitting β."""
MIN_DISTANCE_M = 100.0
"""Distances below this count as this, so demand at a branch's door stays finite in Huff."""
DEFAULT_RING_M = 10_000.0
"""The ring drawn when none of the typed radii is a number."""


def ring_radii_m(text: str) -> list[float]:
    """Read ring radii typed in kilometres, separated by commas or semicolons.

    Parameters
    ----------
    text
        As typed, e.g. ``"5, 10; 25"``; entries that are not plain numbers are left out.

    Returns
    -------
    list of float
        Distinct radii in metres, smallest first; :data:`DEFAULT_RING_M` alone when none is a number.
    """
    typed = text.replace(";", ",").split(",")
    radii = sorted({float(v) * 1000 for v in typed if v.strip().replace(".", "", 1).isdigit()})
    return radii or [DEFAULT_RING_M]


def rings(branches: gpd.GeoDataFrame, radii_m: list[float]) -> gpd.GeoDataFrame:
    """Ring trade areas of each branch for each radius.

    Parameters
    ----------
    branches
        Points with ``branch_id``.
    radii_m
        Radii in metres.

    Returns
    -------
    GeoDataFrame
        ``branch_id, method, radius_m, geometry``.
    """
    rows = [
        {
            "branch_id": branch_id,
            "method": "ring",
            "radius_m": float(radius),
            "geometry": geodesic_circle(point.x, point.y, radius),
        }
        for branch_id, point in zip(branches["branch_id"], branches.geometry, strict=True)
        for radius in radii_m
    ]
    return gpd.GeoDataFrame(rows, columns=["branch_id", "method", "radius_m", "geometry"], crs="EPSG:4326")


def nearest_branch(accounts: gpd.GeoDataFrame, branches: gpd.GeoDataFrame) -> pd.DataFrame:
    """Each account's nearest branch on the sphere and the distance to it.

    Parameters
    ----------
    accounts, branches
        Points; branches carry ``branch_id``.

    Returns
    -------
    DataFrame
        Indexed like ``accounts``: ``branch_id, distance_m``.
    """
    column, distance_m = _nearest_on_sphere(
        accounts.geometry.x.to_numpy(),
        accounts.geometry.y.to_numpy(),
        branches.geometry.x.to_numpy(),
        branches.geometry.y.to_numpy(),
    )
    return pd.DataFrame(
        {"branch_id": branches["branch_id"].to_numpy()[column], "distance_m": distance_m},
        index=accounts.index,
    )


def nearest_branch_keys(lon: np.ndarray, lat: np.ndarray, branches: gpd.GeoDataFrame) -> pd.Series:
    """The nearest branch of each location, as the trade-area key of the cube (its ``branch_id``).

    Parameters
    ----------
    lon, lat
        Degrees; NaN where a location is unknown.
    branches
        Points with ``branch_id``.

    Returns
    -------
    Series
        ``branch_id`` as nullable integers, NA for unknown locations or when there is no branch.
    """
    keys = pd.Series(pd.NA, index=range(len(lon)), dtype="Int64")
    known = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    if len(branches) and len(known):
        column, _ = _nearest_on_sphere(
            lon[known], lat[known], branches.geometry.x.to_numpy(), branches.geometry.y.to_numpy()
        )
        keys.iloc[known] = branches["branch_id"].to_numpy()[column]
    return keys


def busiest_branch(trade_areas: pd.Series) -> int | None:
    """The branch whose nearest-branch trade area holds the most of some accounts.

    Parameters
    ----------
    trade_areas
        Each account's nearest branch (the cube facts' ``trade_area``, NA when unplaced), for
        the accounts a user sees.

    Returns
    -------
    int or None
        Its ``branch_id`` (the lowest id among equals); None when no account has one.
    """
    counts = trade_areas.dropna().astype("int64").value_counts()
    if counts.empty:
        return None
    return int(counts[counts == counts.max()].index.min())


def _nearest_on_sphere(
    lon: np.ndarray, lat: np.ndarray, to_lon: np.ndarray, to_lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest target and the great-circle distance, by a k-d tree on unit vectors.

    The chord between unit vectors grows with the angle between them, so the nearest by
    chord is the nearest on the sphere, and ``2R·asin(chord/2)`` is the haversine distance.
    """
    chord, column = cKDTree(_unit_vectors(to_lon, to_lat)).query(_unit_vectors(lon, lat))
    return np.asarray(column), 2 * EARTH_RADIUS_M * np.arcsin(np.clip(np.asarray(chord) / 2, 0, 1))


def _unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lon, lat = np.radians(np.asarray(lon, dtype=float)), np.radians(np.asarray(lat, dtype=float))
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def customer_derived(
    branches: gpd.GeoDataFrame, customers: gpd.GeoDataFrame, *, share: float = 0.7
) -> gpd.GeoDataFrame:
    """The ring around each branch that holds ``share`` of the customers nearest to it.

    Parameters
    ----------
    branches
        Points with ``branch_id``.
    customers
        Customer points.
    share
        Fraction of each branch's customers to hold, in (0, 1].

    Returns
    -------
    GeoDataFrame
        ``branch_id, method, radius_m, customers, geometry`` for branches with customers.
    """
    nearest = nearest_branch(customers, branches)
    rows = []
    for branch_id, group in nearest.groupby("branch_id"):
        distances = np.sort(group["distance_m"].to_numpy())
        held = int(np.ceil(share * len(distances)))
        rows.append({"branch_id": branch_id, "radius_m": float(distances[held - 1]), "customers": held})
    return _ring_frame(branches, pd.DataFrame(rows), "customer_share")


def threshold_rings(
    branches: gpd.GeoDataFrame,
    accounts: gpd.GeoDataFrame,
    *,
    customers: int | None = None,
    revenue: float | None = None,
    revenue_column: str = "revenue",
) -> gpd.GeoDataFrame:
    """The smallest ring around each branch reaching ``customers`` accounts or ``revenue``.

    Parameters
    ----------
    branches
        Points with ``branch_id``.
    accounts
        Points (and ``revenue_column`` when a revenue threshold is asked).
    customers
        Number of accounts to reach.
    revenue
        Revenue to reach.
    revenue_column
        Column of ``accounts`` holding revenue.

    Returns
    -------
    GeoDataFrame
        ``branch_id, method, radius_m, geometry``; NaN radius where the threshold is out of reach.
    """
    if (customers is None) == (revenue is None):
        msg = "Give exactly one threshold: customers or revenue."
        raise ValueError(msg)
    distances = distance_matrix(accounts, branches)
    order = np.argsort(distances, axis=0)
    sorted_d = np.take_along_axis(distances, order, axis=0)
    if customers is not None:
        reach = np.where(customers <= len(accounts), sorted_d[min(customers, len(accounts)) - 1], np.nan)
    else:
        amounts = accounts[revenue_column].to_numpy(dtype=float)[order]
        cumulative = np.cumsum(amounts, axis=0)
        index = (cumulative >= revenue).argmax(axis=0)
        reached = cumulative[-1] >= revenue
        reach = np.where(reached, sorted_d[index, np.arange(len(branches))], np.nan)
    frame = pd.DataFrame({"branch_id": branches["branch_id"].to_numpy(), "radius_m": reach})
    return _ring_frame(branches, frame, "threshold")


def voronoi(branches: gpd.GeoDataFrame, study_area: shapely.Geometry) -> gpd.GeoDataFrame:
    """Nearest-branch cells, computed in a metric CRS and clipped to the study area.

    Parameters
    ----------
    branches
        Points with ``branch_id``.
    study_area
        Polygon(s) in EPSG:4326 (land, or the region studied).

    Returns
    -------
    GeoDataFrame
        ``branch_id, method, geometry``.
    """
    return gpd.GeoDataFrame(
        {"branch_id": branches["branch_id"].to_numpy(), "method": "voronoi"},
        geometry=nearest_cells(branches.geometry, study_area).to_numpy(),
        crs="EPSG:4326",
    )


def nearest_cells(points: gpd.GeoSeries, study_area: shapely.Geometry) -> gpd.GeoSeries:
    """The part of ``study_area`` nearer to each point than to any other (Voronoi in a metric CRS, clipped).

    The one nearest-point construction of the project: branches' trade areas and the units
    of a book's alignment both use it.

    Parameters
    ----------
    points
        Points in EPSG:4326.
    study_area
        Polygon(s) in EPSG:4326.

    Returns
    -------
    GeoSeries
        One cell per point, in the order and index of ``points`` (EPSG:4326); empty where the
        point's cell misses the area, missing where a point shares another's position.
    """
    metric = points.to_crs(METRIC_CRS)
    area = gpd.GeoSeries([study_area], crs="EPSG:4326").to_crs(METRIC_CRS).iloc[0]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(list(metric)), extend_to=area))
    owner = shapely.STRtree(cells).query(metric.to_numpy(), predicate="within")
    geometry = np.full(len(metric), None, dtype=object)
    geometry[owner[0]] = shapely.intersection(cells[owner[1]], area)
    return gpd.GeoSeries(geometry, index=points.index, crs=METRIC_CRS).to_crs("EPSG:4326")


def huff_probabilities(distances_m: np.ndarray, attractiveness: np.ndarray, beta: float) -> np.ndarray:
    """Huff patronage probabilities of each demand location (rows) for each branch (columns).

    Parameters
    ----------
    distances_m
        Shape (locations, branches).
    attractiveness
        Per branch (size, floor area …), positive.
    beta
        Distance-decay exponent.

    Returns
    -------
    ndarray
        Same shape; each row sums to 1.
    """
    utility = (
        np.asarray(attractiveness, dtype=float)[None, :] * np.maximum(distances_m, MIN_DISTANCE_M) ** -beta
    )
    return utility / utility.sum(axis=1, keepdims=True)


def fit_huff_beta(
    distances_m: np.ndarray,
    chosen: np.ndarray,
    attractiveness: np.ndarray,
    *,
    grid: np.ndarray = HUFF_BETA_GRID,
) -> float:
    """Fit β by maximum likelihood from observed choices (which branch each customer used).

    Parameters
    ----------
    distances_m
        Customers (rows) × branches (columns).
    chosen
        Column index of the branch each customer used.
    attractiveness
        Per branch.
    grid
        Exponents to try.

    Returns
    -------
    float
        The exponent of highest log-likelihood.
    """
    rows = np.arange(len(chosen))
    likelihood = [
        np.log(huff_probabilities(distances_m, attractiveness, b)[rows, chosen]).sum() for b in grid
    ]
    return float(grid[int(np.argmax(likelihood))])


def fit_huff_beta_to_customers(
    distances_m: np.ndarray,
    is_customer: np.ndarray,
    branch: int,
    attractiveness: np.ndarray,
    *,
    grid: np.ndarray = HUFF_BETA_GRID,
) -> float:
    """Fit β from one branch's own customers when nobody recorded which branch each customer uses.

    Each account near the branch is a trial: it is the branch's customer with probability
    ``c·P_j(β)``, ``P_j`` being the branch's Huff probability at the account. For each β of the
    grid the scale ``c`` takes its moment estimate (customers / Σ P_j), and the β of highest
    Bernoulli log-likelihood wins.

    Parameters
    ----------
    distances_m
        Accounts (rows) × branches (columns).
    is_customer
        Whether each account is the branch's customer.
    branch
        Column of the branch in ``distances_m``.
    attractiveness
        Per branch.
    grid
        Exponents to try.

    Returns
    -------
    float
        The exponent of highest likelihood (the grid's first when there is no customer).
    """
    outcome = np.asarray(is_customer, dtype=bool)
    if not outcome.any():
        return float(grid[0])
    likelihood = []
    for b in grid:
        share = huff_probabilities(distances_m, attractiveness, b)[:, branch]
        p = np.clip(share * outcome.sum() / share.sum(), 1e-9, 1 - 1e-9)
        likelihood.append(np.where(outcome, np.log(p), np.log1p(-p)).sum())
    return float(grid[int(np.argmax(likelihood))])


def huff_market(
    cells: pd.DataFrame, branches: gpd.GeoDataFrame, *, beta: float, attractiveness: str | None = None
) -> pd.DataFrame:
    """Expected demand each branch draws from H3 cells, by the Huff model.

    Parameters
    ----------
    cells
        ``cell`` (H3 id), ``lon``, ``lat`` (cell centre) and ``demand`` (accounts or revenue).
    branches
        Points with ``branch_id`` (and ``attractiveness`` column when named).
    beta
        Distance-decay exponent.
    attractiveness
        Column of ``branches``; None for equal attractiveness.

    Returns
    -------
    DataFrame
        ``cell, branch_id, probability, expected_demand``; probabilities sum to 1 per cell.
    """
    distances = haversine_m(
        cells["lon"].to_numpy()[:, None],
        cells["lat"].to_numpy()[:, None],
        branches.geometry.x.to_numpy()[None, :],
        branches.geometry.y.to_numpy()[None, :],
    )
    weights = branches[attractiveness].to_numpy(dtype=float) if attractiveness else np.ones(len(branches))
    probabilities = huff_probabilities(distances, weights, beta)
    frame = pd.DataFrame(
        {
            "cell": np.repeat(cells["cell"].to_numpy(), len(branches)),
            "branch_id": np.tile(branches["branch_id"].to_numpy(), len(cells)),
            "probability": probabilities.ravel(),
        }
    )
    frame["expected_demand"] = frame["probability"] * np.repeat(
        cells["demand"].to_numpy(dtype=float), len(branches)
    )
    return frame


def huff_cells(
    accounts: gpd.GeoDataFrame, branches: gpd.GeoDataFrame, branch_id: int, *, resolution: int = 7
) -> tuple[gpd.GeoDataFrame, float]:
    """One branch's Huff trade area over the H3 cells holding ``accounts``, with β fitted to its customers.

    Demand is the accounts of each cell (and their revenue); every branch competes for it,
    all equally attractive; β comes from :func:`fit_huff_beta_to_customers` with the branch's
    customers being the customers nearest to it.

    Parameters
    ----------
    accounts
        Points with ``status`` and ``revenue``.
    branches
        Points with ``branch_id``; ``branch_id`` is one of them.
    branch_id
        The branch studied.
    resolution
        H3 resolution of the cells.

    Returns
    -------
    tuple
        Cells (``cell, accounts, revenue, probability, expected_accounts, expected_revenue``,
        hexagon geometry), and the fitted β.
    """
    column = int(np.flatnonzero(branches["branch_id"].to_numpy() == branch_id)[0])
    distances = distance_matrix(accounts, branches)
    own_customers = accounts["status"].eq("customer").to_numpy() & (distances.argmin(axis=1) == column)
    equal = np.ones(len(branches))
    beta = fit_huff_beta_to_customers(distances, own_customers, column, equal)
    cells = (
        pd.DataFrame(
            {"cell": h3_cells(accounts.geometry, resolution).to_numpy(), "revenue": accounts["revenue"]}
        )
        .groupby("cell")
        .agg(accounts=("revenue", "size"), revenue=("revenue", "sum"))
        .reset_index()
    )
    centres = [h3.cell_to_latlng(cell) for cell in cells["cell"]]
    cells["lat"] = [lat for lat, _lng in centres]
    cells["lon"] = [lng for _lat, lng in centres]
    market = huff_market(cells.assign(demand=cells["accounts"]), branches, beta=beta)
    share = market.loc[market["branch_id"] == branch_id].set_index("cell")["probability"]
    cells["probability"] = cells["cell"].map(share).to_numpy()
    cells["expected_accounts"] = cells["probability"] * cells["accounts"]
    cells["expected_revenue"] = cells["probability"] * cells["revenue"]
    hexagons = [h3_hexagon(c) for c in cells["cell"]]
    frame = gpd.GeoDataFrame(cells.drop(columns=["lat", "lon"]), geometry=hexagons, crs="EPSG:4326")
    return frame, beta


def ring_members(accounts: gpd.GeoDataFrame, branches: gpd.GeoDataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    """Which accounts each ring trade area holds, measured on the sphere.

    Parameters
    ----------
    accounts
        Points (index = account id).
    branches
        Points with ``branch_id``.
    areas
        Ring trade areas with ``branch_id, radius_m`` (one row per area).

    Returns
    -------
    DataFrame
        ``area`` (row label of ``areas``), ``account``, ``distance_m``.
    """
    distances = distance_matrix(accounts, branches)
    column_of = {b: i for i, b in enumerate(branches["branch_id"])}
    pieces = []
    for label, area in areas.iterrows():
        d = distances[:, column_of[area["branch_id"]]]
        inside = np.flatnonzero(d <= area["radius_m"])
        pieces.append(
            pd.DataFrame({"area": label, "account": accounts.index[inside], "distance_m": d[inside]})
        )
    return (
        pd.concat(pieces, ignore_index=True)
        if pieces
        else pd.DataFrame(columns=["area", "account", "distance_m"])
    )


def polygon_members(accounts: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """Which accounts each polygon trade area (a nearest-branch cell) holds.

    Parameters
    ----------
    accounts
        Points (index = account id).
    areas
        Polygon trade areas (one row per area).

    Returns
    -------
    DataFrame
        ``area`` (row label of ``areas``), ``account``.
    """
    inside = gpd.sjoin(accounts, areas[["geometry"]], predicate="within")
    return pd.DataFrame({"area": inside["index_right"].to_numpy(), "account": inside.index.to_numpy()})


def area_accounts(accounts: gpd.GeoDataFrame, members: pd.DataFrame, areas: pd.Index) -> gpd.GeoDataFrame:
    """The accounts inside any of some trade areas, by name, each once.

    Parameters
    ----------
    accounts
        Points (index = account id) with ``name`` and ``external_id``.
    members
        ``area, account`` as :func:`ring_members` or :func:`polygon_members` return.
    areas
        The labels of the areas wanted.

    Returns
    -------
    GeoDataFrame
        The rows of ``accounts`` inside them, by name then external id.
    """
    inside = accounts[accounts.index.isin(members.loc[members["area"].isin(areas), "account"])]
    return inside.sort_values(["name", "external_id"], kind="stable")


def area_figures(members: pd.DataFrame, accounts: pd.DataFrame, area_branch: pd.Series) -> pd.DataFrame:
    """Accounts, customers, revenue and share per trade area, and overlap with other branches' areas.

    Parameters
    ----------
    members
        ``area, account`` as :func:`ring_members` returns.
    accounts
        Indexed by account: ``status`` and ``revenue``.
    area_branch
        The branch of each area (indexed by area label): a customer is shared when areas of
        two or more branches hold it, not when one branch's nested areas (5 and 10 km,
        10 and 20 minutes) do.

    Returns
    -------
    DataFrame
        Per area: ``accounts, customers, revenue, revenue_share`` (of all accounts' revenue),
        ``shared_customers`` (also in another branch's area) and ``cannibalisation`` (their share, %).
    """
    joined = members.join(accounts[["status", "revenue"]], on="account")
    joined["branch"] = joined["area"].map(area_branch)
    customer = joined["status"].eq("customer")
    branches_per_account = joined.groupby("account")["branch"].transform("nunique")
    figures = (
        joined.assign(customer=customer, shared=customer & (branches_per_account > 1))
        .groupby("area")
        .agg(
            accounts=("account", "size"),
            customers=("customer", "sum"),
            revenue=("revenue", "sum"),
            shared_customers=("shared", "sum"),
        )
    )
    total = accounts["revenue"].sum()
    figures["revenue_share"] = 100.0 * figures["revenue"] / total if total > 0 else np.nan
    figures["cannibalisation"] = (
        100.0 * figures["shared_customers"] / figures["customers"].where(figures["customers"] > 0)
    )
    return figures


def _ring_frame(branches: gpd.GeoDataFrame, radii: pd.DataFrame, method: str) -> gpd.GeoDataFrame:
    points = branches.set_index("branch_id").geometry
    geometry = [
        geodesic_circle(points[b].x, points[b].y, r) if np.isfinite(r) else None
        for b, r in zip(radii["branch_id"], radii["radius_m"], strict=True)
    ]
    frame = radii.assign(method=method)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"))
