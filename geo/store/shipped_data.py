"""The data files shipped in ``data/``: boundaries and offline gazetteers (see data/README.md)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.errors import DataFileError


def read_states(data_dir: Path) -> gpd.GeoDataFrame:
    """Read the state polygons: ``code`` (2-digit FIPS), ``name``, ``abbrev``, ``geometry``.

    Parameters
    ----------
    data_dir
        The shipped data directory.

    Returns
    -------
    GeoDataFrame
        One MultiPolygon per state, DC and territory, EPSG:4326.
    """
    return _read(data_dir / "states.parquet")


def read_counties(data_dir: Path) -> gpd.GeoDataFrame:
    """Read the county polygons: ``code`` (5-digit FIPS), ``name``, ``state_code``, ``geometry``.

    Parameters
    ----------
    data_dir
        The shipped data directory.

    Returns
    -------
    GeoDataFrame
        One MultiPolygon per county or equivalent, EPSG:4326.
    """
    return _read(data_dir / "counties.parquet")


def read_zips(data_dir: Path) -> gpd.GeoDataFrame:
    """Read the ZIP centroids: ``zip, place, state, county_fips, geometry``.

    Parameters
    ----------
    data_dir
        The shipped data directory.

    Returns
    -------
    GeoDataFrame
        One Point per 5-digit ZIP, EPSG:4326.
    """
    return _read(data_dir / "zips.parquet")


def read_cities(data_dir: Path) -> gpd.GeoDataFrame:
    """Read the populated places (population ≥ 1,000): ``geonameid, name, state, population, geometry``.

    Parameters
    ----------
    data_dir
        The shipped data directory.

    Returns
    -------
    GeoDataFrame
        One Point per place, EPSG:4326.
    """
    return _read(data_dir / "cities.parquet")


def read_county_facts(data_dir: Path) -> pd.DataFrame:
    """Read the county market facts: ``code, fact, value, vintage``, one row per published value.

    Parameters
    ----------
    data_dir
        The shipped data directory.

    Returns
    -------
    DataFrame
        Population, households, housing, income, age, jobs, businesses … per county
        (data/README.md names the sources and vintages).
    """
    path = data_dir / "county_facts.parquet"
    _require(path)
    return pd.read_parquet(path)


def _read(path: Path) -> gpd.GeoDataFrame:
    _require(path)
    return gpd.read_parquet(path)


def _require(path: Path) -> None:
    if not path.exists():
        msg = f"Shipped data file {path} is missing; restore it from the repository (data/README.md)."
        raise DataFileError(msg)
