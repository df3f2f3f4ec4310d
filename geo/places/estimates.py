"""Estimates of county figures for smaller areas (ZIPs, H3 cells), by dasymetric areal interpolation.

Method
------
A county's extensive counts (residents, households, jobs, establishments …) are shared
among the *pieces* the target zones cut it into: the intersections county × zone, measured
in the equal-area :data:`~geo.places.geodesy.METRIC_CRS`. The share of piece *p* of county
*c* is

.. math::

    w_p = s_c \\frac{q_p}{Q_c} + (1 - s_c) \\frac{a_p}{A_c},
    \\qquad s_c = \\min\\left(1, \\frac{Q_c}{P_c}\\right)

with :math:`q_p` the people of the shipped populated places inside the piece,
:math:`Q_c` those of all the county's places, :math:`a_p` and :math:`A_c` the areas of the
piece and of the county, and :math:`P_c` the county's own population figure. A place ships
as a point with its population; its people are spread evenly over a disc around the point
whose area holds them at :data:`PLACE_DENSITY_PER_KM2` (a city of a million covers 500 km²),
so a small zone near a city's centre point does not take the whole city; the part of a disc
outside its county is left out of both :math:`q_p` and :math:`Q_c`. This is a
two-class dasymetric mapping (Eicher and Brewer 2001; Mennis 2003) with the places as the
ancillary data: the people who live in the places are put where the places are, the rest are
spread evenly over the county's land, as plain areal weighting does (Goodchild and Lam 1980).
Placing everyone on the places instead would leave every zone without a place (most H3 cells,
rural ZIPs) at zero. Every figure follows the same surface: jobs and establishments are
apportioned like residents. Fallbacks:

- a county with no place inside, or only places of no population, takes area weights
  (:math:`s_c = 0`);
- a county whose population figure is missing (no such column, NaN, or zero) puts
  everything on its places (:math:`s_c = 1`).

A county's shares sum to one, so its figures sum back to it across its zones (to floating
rounding). The county × piece table of shares is handed to tobler's areal interpolation
(:func:`tobler.area_weighted.area_interpolate`, PySAL; Knaap et al.) in place of the plain
intersection areas it would measure, the way its masked (dasymetric) interpolation hands it
masked areas; the table is built here in float64 because tobler's own is float32, which
loses the sum back beyond about 1e-7. A NaN figure stays NaN in every piece of its county,
and a zone with any NaN piece is NaN for that figure (it is not known in full); counties of
``counties`` that ``county_figures`` lacks count as NaN, and figures of codes ``counties``
lacks are not apportioned.

Zones
-----
- **ZIPs** ship as points, so their areas are built: the Thiessen (Voronoi) cells of the
  distinct ZIP points in the metric CRS (:func:`shapely.voronoi_polygons`), intersected with
  the counties. A ZIP near a county line thus takes a piece of each county its cell reaches,
  as real ZIPs do; every county is covered whatever ZIPs it holds (96 shipped counties hold
  no ZIP point, 511 ZIPs have no county). ZIPs sharing one point share its cell equally.
  A place falls in the cell of its nearest ZIP point, which is the Voronoi construction itself.
- **H3 cells** covering each county (h3ronpy, ``Covers``): a cell wholly inside a county is
  one piece of its area on the sphere (``cells_area_m2``); a cell crossing the county's
  boundary is intersected with it in the metric CRS.

References
----------
Goodchild, M. F., and Lam, N. S.-N. (1980). Areal interpolation: a variant of the
traditional spatial problem. *Geo-Processing* 1, 297–312.

Eicher, C. L., and Brewer, C. A. (2001). Dasymetric mapping and areal interpolation:
implementation and evaluation. *Cartography and Geographic Information Science* 28(2), 125–138.

Mennis, J. (2003). Generating surface models of population using dasymetric mapping.
*The Professional Geographer* 55(1), 31–42.

Knaap, E., et al. tobler: areal interpolation in Python (PySAL), https://pysal.org/tobler.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import h3ronpy
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from h3ronpy import vector as h3_vector
from scipy.sparse import csr_matrix
from tobler.area_weighted import area_interpolate

from geo.errors import EstimateError
from geo.places.geodesy import METRIC_CRS
from geo.places.regions import region_keys

POPULATION_COLUMN = "population"
"""The county figure the place populations are measured against (the :math:`P_c` of the method)."""
PLACE_DENSITY_PER_KM2 = 2_000.0
"""People per km² a populated place's residents are spread at (a disc around its point)."""
DISC_QUAD_SEGMENTS = 8
"""Segments per quarter circle of a place's disc."""
H3_ESTIMATE_RESOLUTIONS = range(5, 10)
"""H3 resolutions estimates are made at (r9 cells, about 0.1 km², over one state at most)."""


@dataclass(frozen=True)
class PlaceLayer:
    """The populated places as discs of people, and the people of each county's discs.

    Attributes
    ----------
    discs
        ``county`` (position in the counties), ``population``, ``geometry`` (metric CRS).
    placed
        People of the discs inside each county (the :math:`Q_c` of the method), by position.
    """

    discs: pd.DataFrame
    placed: np.ndarray


def place_layer(places: gpd.GeoDataFrame, counties: gpd.GeoDataFrame) -> PlaceLayer:
    """Build the places' discs once, to reuse across estimates over the same counties.

    Parameters
    ----------
    places
        Populated places (``population``, Point ``geometry``, EPSG:4326), as ``read_cities``.
    counties
        County polygons (``code``, ``geometry``, EPSG:4326), as ``read_counties``.

    Returns
    -------
    PlaceLayer
        Each place spread over a disc at :data:`PLACE_DENSITY_PER_KM2`, and each county's share of them.
    """
    discs = _place_discs(places, counties)
    counties_m = counties.geometry.to_crs(METRIC_CRS).to_numpy()
    return PlaceLayer(discs=discs, placed=_disc_people(counties_m, np.arange(len(counties)), discs))


def zip_estimates(
    county_figures: pd.DataFrame,
    counties: gpd.GeoDataFrame,
    zips: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    *,
    population: str = POPULATION_COLUMN,
) -> pd.DataFrame:
    """Estimate county figures for ZIPs, apportioned through the ZIP points' Voronoi cells.

    Parameters
    ----------
    county_figures
        Extensive counts indexed by 5-digit county FIPS code, one column each; NaN where unknown.
    counties
        County polygons (``code``, ``geometry``, EPSG:4326), as ``read_counties``.
    zips
        ZIP points (``zip``, ``geometry``, EPSG:4326), as ``read_zips``.
    places
        Populated places (``population``, Point ``geometry``, EPSG:4326), as ``read_cities``.
    population
        The column of ``county_figures`` holding each county's residents.

    Returns
    -------
    DataFrame
        The columns of ``county_figures`` as floats, indexed by ``zip``: one row per ZIP
        whose cell meets a county of ``counties``.
    """
    zips = zips[zips.geometry.notna() & ~zips.geometry.is_empty]
    points = zips.geometry.to_crs(METRIC_CRS).to_numpy()
    site_of_zip, sites = pd.factorize(shapely.to_wkb(points))
    site_points = shapely.from_wkb(sites)
    counties_m = counties.geometry.to_crs(METRIC_CRS)
    pieces = _voronoi_pieces(counties_m, site_points)
    by_site = _apportion(
        county_figures, counties, counties_m, pieces, place_layer(places, counties), population
    )
    sharing = np.bincount(site_of_zip, minlength=len(sites))
    met = np.isin(site_of_zip, by_site.index)
    per_zip = by_site.reindex(site_of_zip[met]).to_numpy() / sharing[site_of_zip[met], None]
    index = pd.Index(zips["zip"].to_numpy()[met], name="zip")
    return pd.DataFrame(per_zip, index=index, columns=by_site.columns).sort_index()


def h3_estimates(
    county_figures: pd.DataFrame,
    counties: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    *,
    resolution: int,
    population: str = POPULATION_COLUMN,
) -> pd.DataFrame:
    """Estimate county figures for the H3 cells covering the counties.

    Parameters
    ----------
    county_figures
        Extensive counts indexed by 5-digit county FIPS code, one column each; NaN where unknown.
    counties
        County polygons (``code``, ``geometry``, EPSG:4326), as ``read_counties``.
    places
        Populated places (``population``, Point ``geometry``, EPSG:4326), as ``read_cities``.
    resolution
        H3 resolution, one of :data:`H3_ESTIMATE_RESOLUTIONS`.
    population
        The column of ``county_figures`` holding each county's residents.

    Returns
    -------
    DataFrame
        The columns of ``county_figures`` as floats, indexed by ``cell``: the H3 cell ids as
        hex strings, the form of the stored ``h3_r*`` keys.
    """
    if resolution not in H3_ESTIMATE_RESOLUTIONS:
        msg = (
            f"H3 estimates are made at resolutions {H3_ESTIMATE_RESOLUTIONS.start}–"
            f"{H3_ESTIMATE_RESOLUTIONS.stop - 1}, not {resolution!r}."
        )
        raise EstimateError(msg)
    counties_m = counties.geometry.to_crs(METRIC_CRS)
    pieces = _h3_pieces(counties, counties_m, resolution)
    estimates = _apportion(
        county_figures, counties, counties_m, pieces, place_layer(places, counties), population
    )
    cells = pa.array(estimates.index.to_numpy(), pa.uint64())
    estimates.index = pd.Index(_numpy(h3ronpy.cells_to_string(cells)), name="cell")
    return estimates.sort_index()


def area_estimates(
    county_figures: pd.DataFrame,
    counties: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    areas: gpd.GeoSeries,
    *,
    population: str = POPULATION_COLUMN,
    layer: PlaceLayer | None = None,
) -> pd.DataFrame:
    """Estimate county figures inside areas that may overlap (trade areas, drawn shapes).

    Each area takes from every county it meets the share the method gives the piece
    county × area, measured against the county's whole place population and area, so an
    area holding a county whole gets all of it and overlapping areas each get their own part.

    Parameters
    ----------
    county_figures
        Extensive counts indexed by 5-digit county FIPS code, one column each; NaN where unknown.
    counties
        County polygons (``code``, ``geometry``, EPSG:4326), as ``read_counties``.
    places
        Populated places (``population``, Point ``geometry``, EPSG:4326), as ``read_cities``.
    areas
        Polygons in EPSG:4326 (an empty or missing one gets NaN).
    population
        The column of ``county_figures`` holding each county's residents.
    layer
        :func:`place_layer` of ``places`` and ``counties``, when the caller keeps one.

    Returns
    -------
    DataFrame
        The columns of ``county_figures`` as floats, indexed like ``areas``: 0 for an area
        that meets no county, NaN where a county it meets lacks the figure.
    """
    drawn = areas[areas.notna() & ~areas.is_empty]
    areas_m = drawn.to_crs(METRIC_CRS).to_numpy()
    counties_m = counties.geometry.to_crs(METRIC_CRS)
    county, area = shapely.STRtree(areas_m).query(counties_m.to_numpy(), predicate="intersects")
    overlap = shapely.intersection(counties_m.to_numpy()[county], areas_m[area])
    pieces = pd.DataFrame(
        {"county": county, "zone": area, "area": shapely.area(overlap), "geometry": overlap}
    )
    zone_values = _apportion(
        county_figures,
        counties,
        counties_m,
        pieces,
        layer or place_layer(places, counties),
        population,
        overlapping=True,
    )
    columns = list(county_figures.columns)
    out = pd.DataFrame(0.0, index=areas.index, columns=columns)
    out.loc[drawn.index[zone_values.index.to_numpy(dtype=int)], columns] = zone_values.to_numpy()
    out.loc[~areas.index.isin(drawn.index), columns] = np.nan
    return out


def _voronoi_pieces(counties_m: gpd.GeoSeries, sites: np.ndarray) -> pd.DataFrame:
    """County × Voronoi cell pieces: ``county`` (position), ``zone`` (site), ``area``, ``geometry``."""
    bounds = np.vstack([counties_m.total_bounds, shapely.total_bounds(sites)])
    extent = shapely.box(*bounds[:, :2].min(axis=0), *bounds[:, 2:].max(axis=0))
    diagram = shapely.voronoi_polygons(shapely.multipoints(sites), extend_to=extent, ordered=True)
    cells = shapely.get_parts(diagram)
    county, zone = shapely.STRtree(cells).query(counties_m.to_numpy(), predicate="intersects")
    piece = shapely.intersection(counties_m.to_numpy()[county], cells[zone])
    return pd.DataFrame({"county": county, "zone": zone, "area": shapely.area(piece), "geometry": piece})


def _h3_pieces(counties: gpd.GeoDataFrame, counties_m: gpd.GeoSeries, resolution: int) -> pd.DataFrame:
    """County × H3 cell pieces: ``county`` (position), ``zone`` (uint64 cell), ``area``, ``geometry``."""
    wkb = pa.array(shapely.to_wkb(counties.geometry.to_numpy()))
    covering = _cells_by_county(wkb, resolution, h3_vector.ContainmentMode.Covers)
    inside = _cells_by_county(wkb, resolution, h3_vector.ContainmentMode.ContainsBoundary)
    pieces = covering.merge(inside.assign(inside=True), on=["county", "cell"], how="left")
    crossing = pieces["inside"].isna().to_numpy()
    cells = pa.array(pieces["cell"].to_numpy(), pa.uint64())
    area = _numpy(h3ronpy.cells_area_m2(cells)).copy()
    geometry = (
        gpd.GeoSeries.from_wkb(_numpy(h3_vector.cells_to_wkb_polygons(cells)), crs=counties.crs)
        .to_crs(METRIC_CRS)
        .to_numpy()
    )
    outlines = counties_m.to_numpy()[pieces["county"].to_numpy()[crossing]]
    geometry[crossing] = shapely.intersection(outlines, geometry[crossing])
    area[crossing] = shapely.area(geometry[crossing])
    return pd.DataFrame(
        {
            "county": pieces["county"].to_numpy(),
            "zone": pieces["cell"].to_numpy(),
            "area": area,
            "geometry": geometry,
        }
    )


def _cells_by_county(wkb: pa.Array, resolution: int, mode: h3_vector.ContainmentMode) -> pd.DataFrame:
    """The cells of each county under ``mode``: ``county`` (position) and ``cell`` (uint64)."""
    lists = pa.array(h3_vector.wkb_to_cells(wkb, resolution, containment_mode=mode))
    counts = pc.list_value_length(lists).fill_null(0).to_numpy()
    cells = pc.list_flatten(lists).to_numpy()
    return pd.DataFrame({"county": np.repeat(np.arange(len(wkb)), counts), "cell": cells})


def _numpy(array: object) -> np.ndarray:
    """An Arrow array (h3ronpy's results) as a NumPy array."""
    return pa.array(array).to_numpy(zero_copy_only=False)


def _place_discs(places: gpd.GeoDataFrame, counties: gpd.GeoDataFrame) -> pd.DataFrame:
    """Each populated place as a disc of its people at :data:`PLACE_DENSITY_PER_KM2`, with its county.

    Returns ``county`` (position in ``counties``), ``population`` and ``geometry`` (the disc
    in the metric CRS), for the places inside a county and with people.
    """
    codes = region_keys(places.geometry, counties)["county_fips"]
    position = pd.Series(np.arange(len(counties)), index=counties["code"].to_numpy())
    people = places["population"].fillna(0).astype(float)
    keep = codes.map(position).notna().to_numpy() & (people.to_numpy() > 0)
    radius_m = np.sqrt(people.to_numpy()[keep] / PLACE_DENSITY_PER_KM2 / np.pi) * 1_000.0
    centres = places.geometry.to_crs(METRIC_CRS).to_numpy()[keep]
    return pd.DataFrame(
        {
            "county": codes.map(position).to_numpy()[keep].astype(int),
            "population": people.to_numpy()[keep],
            "geometry": shapely.buffer(centres, radius_m, quad_segs=DISC_QUAD_SEGMENTS),
        }
    )


def _disc_people(pieces: np.ndarray, piece_county: np.ndarray, discs: pd.DataFrame) -> np.ndarray:
    """People of each piece: every disc of its county shares its people by the area it overlaps."""
    disc_geometry = discs["geometry"].to_numpy()
    piece, disc = shapely.STRtree(disc_geometry).query(pieces, predicate="intersects")
    same = piece_county[piece] == discs["county"].to_numpy()[disc]
    piece, disc = piece[same], disc[same]
    overlap = shapely.area(shapely.intersection(pieces[piece], disc_geometry[disc]))
    people = discs["population"].to_numpy()[disc] * overlap / shapely.area(disc_geometry[disc])
    return np.bincount(piece, weights=people, minlength=len(pieces))


def _apportion(
    county_figures: pd.DataFrame,
    counties: gpd.GeoDataFrame,
    counties_m: gpd.GeoSeries,
    pieces: pd.DataFrame,
    layer: PlaceLayer,
    population: str,
    *,
    overlapping: bool = False,
) -> pd.DataFrame:
    """Share each county's figures among its pieces and sum them by zone, NaN kept.

    Zones that partition the counties go through tobler; ``overlapping`` zones (which tobler's
    rescaling to one per county would shrink) through the plain product of shares and figures.
    """
    figures = _figures(county_figures, counties)
    pieces = pieces[pieces["area"] > 0].reset_index(drop=True)
    people = figures[population] if population in figures else pd.Series(np.nan, index=figures.index)
    county = pieces["county"].to_numpy()
    placed = layer.placed
    q = _disc_people(pieces["geometry"].to_numpy(), county, layer.discs)
    shares = _shares(
        county, q, pieces["area"].to_numpy(), people.to_numpy(), placed, shapely.area(counties_m.to_numpy())
    )
    zone, zones = pd.factorize(pieces["zone"].to_numpy())
    table = csr_matrix((shares, (county, zone)), shape=(len(counties), len(zones)))
    columns = list(figures.columns)
    if overlapping:
        values = np.asarray(table.T @ figures.fillna(0.0).to_numpy())
    else:
        source = gpd.GeoDataFrame(figures.fillna(0.0), geometry=counties_m.to_numpy(), crs=METRIC_CRS)
        # Given the table, tobler reads no target geometry: the zones' outlines are not built.
        target = gpd.GeoDataFrame(geometry=np.full(len(zones), None), crs=METRIC_CRS)
        values = area_interpolate(source, target, extensive_variables=columns, table=table)[columns].to_numpy(
            copy=True
        )
    reach = csr_matrix((np.ones(len(pieces)), (county, zone)), shape=table.shape)
    unknown = reach.T @ figures.isna().to_numpy(dtype=float)
    values[unknown > 0] = np.nan
    return pd.DataFrame(values, index=zones, columns=columns)


def _figures(county_figures: pd.DataFrame, counties: gpd.GeoDataFrame) -> pd.DataFrame:
    """The figures as floats, one row per county of ``counties`` in its order."""
    not_counts = [
        column
        for column in county_figures.columns
        if not pd.api.types.is_numeric_dtype(county_figures[column])
    ]
    if not_counts:
        listed = ", ".join(map(str, not_counts))
        msg = f"County figures must be counts; these columns are not numbers: {listed}."
        raise EstimateError(msg)
    return county_figures.reindex(counties["code"].to_numpy()).astype(float).reset_index(drop=True)


def _shares(
    county: np.ndarray, q: np.ndarray, a: np.ndarray, people: np.ndarray, placed: np.ndarray, land: np.ndarray
) -> np.ndarray:
    """Each piece's share of its county (the method of the module docstring).

    ``q`` and ``a`` are the pieces' place people and areas, ``placed`` and ``land`` the
    counties'; the shares of a county's pieces sum to one when they partition it.
    """
    known = np.nan_to_num(people) > 0
    s = np.where(known, np.minimum(1.0, placed / np.where(known, people, 1.0)), 1.0)
    s = np.where(placed > 0, s, 0.0)
    return s[county] * q / np.where(placed > 0, placed, 1.0)[county] + (1 - s[county]) * a / land[county]
