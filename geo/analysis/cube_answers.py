"""Answer a cube query from the database: fetch facts, member names and geometry, then compute."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import shapely

from geo.analysis.cube import (
    MARKET_MEASURES,
    Facts,
    Period,
    cube,
    cube_table,
    label_members,
)
from geo.analysis.market_answers import MARKET_LEVELS, market_figures
from geo.analysis.tradeareas import voronoi
from geo.choices import match_choices, spellings_of, state_spellings
from geo.field.accounts import branches, load_facts, rep_names
from geo.store.boundaries import load_regions
from geo.store.db import Database
from geo.store.shipped_data import read_cities, read_zips

if TYPE_CHECKING:
    from distributed import Client


def answer_cube(
    db: Database,
    data_dir: Path,
    *,
    by: str,
    measures: list[str],
    user: str,
    where: dict[str, list[str]] | None = None,
    period: Period | None = None,
    facts: Facts | None = None,
    regions: gpd.GeoDataFrame | None = None,
    client: Client | None = None,
) -> gpd.GeoDataFrame:
    """Run one cube query and label its members.

    Parameters
    ----------
    db
        The database.
    data_dir
        The shipped data directory (ZIP names and points, the places H3 cells are named by).
    by
        Dimension.
    measures
        Measures.
    user
        The acting user.
    where
        Dimension → allowed keys.
    period
        Period of the order measures.
    facts
        Facts already loaded (a cache); fetched when None.
    regions
        Regions of level ``by`` already loaded (a cache), for ``state``/``county``.
    client
        A Dask client to aggregate on, or None for this process.

    Returns
    -------
    GeoDataFrame
        ``key, name``, one column per measure, ``geometry`` (None where the
        dimension has none).
    """
    facts = facts if facts is not None else load_facts(db, user=user)
    if regions is None and by in ("state", "county"):
        regions = load_regions(db, by, user=user)
    wants_market = by in MARKET_LEVELS and any(m in MARKET_MEASURES for m in measures)
    market = market_figures(db, data_dir, by, user=user) if wants_market else None
    query = {"by": by, "measures": measures, "where": where, "period": period, "market": market}
    if client is None:
        result = cube(facts, **query)
    else:
        # Imported here: dask costs half a second to import, and most queries never need it.
        from geo.analysis.cube_dask import distributed_cube

        result = distributed_cube(facts, client=client, **query)
    names, shapes = None, None
    if by == "rep":
        names = rep_names(db, user=user)
    elif by == "trade_area":
        names, shapes = trade_area_shapes(db, user=user)
    elif by == "territory":
        names, shapes = territory_shapes(db, user=user)
    members = label_members(
        by,
        result.index,
        regions=regions,
        zips=read_zips(data_dir) if by == "zip" else None,
        names=names,
        shapes=shapes,
        places=read_cities(data_dir) if by.startswith("h3_") else None,
    )
    return cube_table(result, members)


def match_where(
    db: Database, facts: Facts, where: dict[str, list[str]], *, user: str
) -> dict[str, list[str]]:
    """Turn typed filters into member keys of the book, matched without regard to case.

    States match by postal code, name or FIPS code; reps by id or name; territories by id,
    code or name; trade areas by branch id, external id or name; every other dimension by the
    values its accounts hold.

    Parameters
    ----------
    db
        The database.
    facts
        The accounts the filters apply to.
    where
        Dimension → values as typed (see :func:`geo.choices.parse_where`).
    user
        The acting user.

    Returns
    -------
    dict
        Dimension → member keys. A value that matches nothing raises
        :class:`geo.errors.InvalidChoice`, which lists the valid ones.
    """
    return {
        dimension: match_choices(dimension, values, _spellings(db, facts, dimension, user=user))
        for dimension, values in where.items()
    }


def _spellings(db: Database, facts: Facts, dimension: str, *, user: str) -> dict[str, str]:
    if dimension == "state":
        return state_spellings(load_regions(db, "state", user=user))
    if dimension == "rep":
        names = rep_names(db, user=user)
        return {**dict(zip(names, names.index, strict=True)), **spellings_of(names.index)}
    if dimension == "territory":
        with db.transaction(user=user) as cur:
            cur.execute("SELECT territory_id::text, code, name FROM territories ORDER BY code")
            rows = cur.fetchall()
        return {
            **{code: key for key, code, _name in rows},
            **{key: key for key, _code, _name in rows},
            **{name: key for key, _code, name in rows},
        }
    if dimension == "trade_area":
        points = branches(db, user=user)
        keys = points["branch_id"].astype(str)
        return {
            **dict(zip(points["name"], keys, strict=True)),
            **spellings_of(keys),
            **dict(zip(points["external_id"].astype(str), keys, strict=True)),
        }
    return spellings_of(facts.member_codes(dimension)[1])


def trade_area_shapes(db: Database, *, user: str) -> tuple[pd.Series, gpd.GeoSeries]:
    """Name and draw the nearest-branch trade areas: each branch's Voronoi cell clipped to the states.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    tuple
        ``branch_id`` (as text) → name, and → polygon.
    """
    points = branches(db, user=user)
    keys = points["branch_id"].astype(str).to_numpy()
    if points.empty:
        return pd.Series(dtype=str), gpd.GeoSeries(crs="EPSG:4326")
    land = load_regions(db, "state", user=user).union_all()
    cells = voronoi(points, land)
    return (
        pd.Series(points["name"].to_numpy(), index=keys),
        gpd.GeoSeries(cells.geometry.to_numpy(), index=keys, crs="EPSG:4326"),
    )


def territory_shapes(db: Database, *, user: str) -> tuple[pd.Series, gpd.GeoSeries]:
    """Name the territories and outline those of the active plan that are made of counties or shapes.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    tuple
        ``territory_id`` (as text) → name, and → outline (the union of its counties and drawn
        shape in the active plan; missing for plans of ZIPs or H3 cells).
    """
    with db.transaction(user=user) as cur:
        cur.execute("SELECT territory_id::text, code || ' · ' || name FROM territories")
        names = pd.Series(dict(cur.fetchall()), dtype=object)
        cur.execute(
            "WITH active AS (SELECT version_id FROM territory_versions WHERE status = 'active'),"
            " pieces AS (SELECT u.territory_id, r.geom FROM territory_units u JOIN active USING (version_id)"
            " JOIN regions r ON r.level = 'county' AND r.code = u.unit_code WHERE u.unit_level = 'county'"
            " UNION ALL SELECT s.territory_id, s.geom FROM territory_shapes s JOIN active USING (version_id))"
            " SELECT territory_id::text, ST_AsBinary(ST_Union(geom)) FROM pieces GROUP BY territory_id"
        )
        rows = cur.fetchall()
    shapes = gpd.GeoSeries(
        shapely.from_wkb([bytes(wkb) for _key, wkb in rows]),
        index=[key for key, _wkb in rows],
        crs="EPSG:4326",
    )
    return names, shapes
