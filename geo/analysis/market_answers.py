"""The market around the book from the database: figures per member, per trade area, and white space."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.analysis.cube import MARKET, Facts, cube, dimension_keys, region_names
from geo.analysis.market import check_denominator, opportunity, white_space
from geo.clock import today
from geo.errors import CubeQueryError
from geo.field.accounts import data_version, load_facts, visited_since
from geo.places.estimates import PlaceLayer, area_estimates, h3_estimates, place_layer, zip_estimates
from geo.store.boundaries import load_regions
from geo.store.db import Database
from geo.store.region_facts import read_facts
from geo.store.shipped_data import read_cities, read_counties, read_zips

RECENT_VISIT_DAYS = 90
"""A region with a visit in this many days is being worked: not white space."""
WHITE_SPACE_LIMIT = 25
MARKET_LEVELS = ("state", "county", "zip")
"""Dimensions whose members have market figures: the levels of ``region_facts``, and ZIPs by estimate."""
ESTIMATED_LEVELS = ("zip",)
"""Levels whose market figures are apportioned from their counties (:mod:`geo.places.estimates`)."""
_MARKETS: dict[tuple, pd.DataFrame] = {}
"""Market figures by (database, data directory, level, facts version): read or estimated once."""
MARKET_CACHE_ENTRIES = 8
"""Entries kept: a process serves one database, a few levels and the last versions."""
_PLACE_LAYERS: dict[str, tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, PlaceLayer]] = {}
"""Counties, places and the places' discs per data directory: read and built once per process (1.5 s)."""
AREA_MARKET = {
    "population": "Population",
    "households": "Households",
    "jobs": "Jobs located here",
    "establishments": "Business establishments",
    "income_per_person": "Income per person",
}
"""What a trade area's market figures are (estimates from its counties), with their labels."""
AREA_MARKET_KINDS = {
    "population": "count",
    "households": "count",
    "jobs": "count",
    "establishments": "count",
    "income_per_person": "money",
}
"""The kind of each of :data:`AREA_MARKET`'s figures (see :func:`geo.formatting.figure`)."""


def market_figures(db: Database, data_dir: Path, level: str, *, user: str) -> pd.DataFrame:
    """The market figures of every member of one level: facts for states and counties, estimates for ZIPs.

    Parameters
    ----------
    db
        The database.
    data_dir
        The shipped data directory (counties, ZIPs and places for the estimates).
    level
        One of :data:`MARKET_LEVELS`.
    user
        The acting user.

    Returns
    -------
    DataFrame
        :data:`geo.analysis.cube.MARKET` columns by member key.
    """
    key = (db.dsn, str(data_dir), level, data_version(db, user=user, tables=("region_facts",)))
    if key not in _MARKETS:
        if level in ESTIMATED_LEVELS:
            counties = read_facts(db, "county", user=user, facts=list(MARKET))
            figures = zip_estimates(
                counties, read_counties(data_dir), read_zips(data_dir), read_cities(data_dir)
            )
        else:
            figures = read_facts(db, level, user=user, facts=list(MARKET))
        if len(_MARKETS) >= MARKET_CACHE_ENTRIES:
            _MARKETS.pop(next(iter(_MARKETS)))
        _MARKETS[key] = figures
    return _MARKETS[key]


def white_space_regions(
    db: Database,
    *,
    level: str,
    denominator: str,
    user: str,
    days: int = RECENT_VISIT_DAYS,
    limit: int = WHITE_SPACE_LIMIT,
    facts: Facts | None = None,
) -> pd.DataFrame:
    """Rank the regions where the book could be and is not (see :mod:`geo.analysis.market`).

    Parameters
    ----------
    db
        The database.
    level
        ``state`` or ``county``.
    denominator
        The market figure penetration is measured against (:data:`geo.analysis.market.DENOMINATORS`).
    user
        The acting user (the book they see).
    days
        A region with an account visited in this many days before today is not white space.

    Regions are ranked within the states the user's accounts are in, and the penetration
    that sets the expectation is the user's book's in those states.
    limit
        Regions to return.
    facts
        The user's book, when the caller already holds it (read from ``db`` otherwise).

    Returns
    -------
    DataFrame
        :data:`geo.analysis.market.WHITE_SPACE_COLUMNS`, best opportunity first.
    """
    denominator = check_denominator(denominator)
    if level not in ("state", "county"):
        msg = f"White space is ranked by state or county, not {level!r}."
        raise CubeQueryError(msg)
    facts = facts if facts is not None else load_facts(db, user=user)
    customers = cube(facts, by=level, measures=["customers"])["customers"]
    market = read_facts(db, level, user=user, facts=[denominator, "metro"])
    # The user's book sets the footprint: a rep or a regional manager is compared, and offered
    # white space, within the states their accounts are in (an admin's book spans them all).
    footprint = facts.accounts["state_fips"].dropna().unique()
    market = market[market.index.str[:2].isin(footprint)]
    visited_ids = visited_since(db, today() - timedelta(days=days), user=user)
    accounts = facts.accounts
    visited = dimension_keys(accounts[accounts["account_id"].isin(visited_ids)], level).value_counts()
    regions = market.assign(
        customers=customers.reindex(market.index).fillna(0.0),
        market=market[denominator],
        visited=visited.reindex(market.index).fillna(0).astype(int),
    )
    groups = regions["metro"] if level == "county" else None
    regions = regions.join(opportunity(regions["customers"], regions["market"], groups))
    labelled = load_regions(db, level, user=user)
    names = pd.Series(region_names(labelled, level).to_numpy(), index=labelled["code"])
    regions = regions.assign(key=regions.index, name=names.reindex(regions.index).to_numpy())
    return white_space(regions, limit=limit)


def unit_market(
    db: Database, data_dir: Path, level: str, *, user: str, states: list[str] | None = None
) -> pd.DataFrame:
    """Market figures of territory units: counties' facts, ZIP and H3 estimates.

    Parameters
    ----------
    db
        The database.
    data_dir
        The shipped data directory.
    level
        ``county``, ``zip`` or ``h3_R`` (R 5–9).
    user
        The acting user.
    states
        State FIPS codes of the study area; H3 cells are estimated from those states'
        counties only (None: every county, which takes a minute at resolution 7).

    Returns
    -------
    DataFrame
        :data:`geo.analysis.cube.MARKET` columns by unit code.
    """
    if level in ("county", "zip"):
        return market_figures(db, data_dir, level, user=user)
    counties = read_counties(data_dir)
    if states is not None:
        counties = counties[counties["code"].str[:2].isin(states)].reset_index(drop=True)
    facts = read_facts(db, "county", user=user, facts=list(MARKET))
    resolution = int(level.removeprefix("h3_"))
    return h3_estimates(facts, counties, read_cities(data_dir), resolution=resolution)


def area_market(db: Database, data_dir: Path, areas: gpd.GeoSeries, *, user: str) -> pd.DataFrame:
    """Estimate the market inside areas (trade areas, drawn shapes) from the county facts.

    Parameters
    ----------
    db
        The database.
    data_dir
        The shipped data directory (counties and places).
    areas
        Polygons in EPSG:4326; they may overlap.
    user
        The acting user.

    Returns
    -------
    DataFrame
        :data:`AREA_MARKET` columns, indexed like ``areas``; income per person is the areas'
        estimated income (income per person times residents, by county) over their residents.
    """
    counties = read_facts(db, "county", user=user, facts=[*MARKET, "per_capita_income"])
    counties["income"] = counties.pop("per_capita_income") * counties["population"]
    if str(data_dir) not in _PLACE_LAYERS:
        shapes, places = read_counties(data_dir), read_cities(data_dir)
        _PLACE_LAYERS[str(data_dir)] = (shapes, places, place_layer(places, shapes))
    shapes, places, layer = _PLACE_LAYERS[str(data_dir)]
    estimates = area_estimates(counties, shapes, places, areas, layer=layer)
    people = estimates["population"].where(estimates["population"] > 0)
    estimates["income_per_person"] = estimates.pop("income") / people
    return estimates[list(AREA_MARKET)]
