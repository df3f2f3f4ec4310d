"""The base every map builder shares: an empty map served by the app, its view, light shapes, tooltips.

Maps load Leaflet from the app (:mod:`geo.maps.assets`), never from a CDN; offline, region
polygons are the basemap. Text reaches folium's tooltips only through
:func:`geo.maps.escaping.template_literal`.
"""

from __future__ import annotations

import operator
import threading
from collections import OrderedDict

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from folium.plugins import Draw
from jinja2 import Template
from pandas.api.types import is_numeric_dtype

from geo.config import load_settings
from geo.maps.assets import BASEMAP_JS, DRAW_CSS, DRAW_JS, LEAFLET_CSS, LEAFLET_JS, map_template
from geo.maps.escaping import template_literal
from geo.maps.tiles import MAX_DATA_ZOOM, TILE_PATH
from geo.places.geodesy import LOWER_48_BOUNDS

DISPLAY_TOLERANCE_DEG = 0.005
"""Finest simplification of polygons for display (never used for measurement)."""
VIEW_PIXELS = 1_200
"""A map is about this many pixels wide: detail finer than one pixel of the first view is dropped."""
COVERAGE_TOLERANCE_SCALE = 2.5
"""Visvalingam–Whyatt tolerance of :func:`display_geometry`, in display tolerances (about pixels).

Its tolerance is the square root of the smallest triangle a vertex keeps, so at one pixel it
keeps far more vertices than Douglas–Peucker at one pixel: the lower-48 GeoJSON would be 50 %
(states) and 40 % (counties) larger. At 2.5 the counties send 1 % more, the states 29 % less.
At a state's view the vertices where neighbours meet, which a coverage keeps, cost 7 % (median)
whatever the scale.
"""
_POLYGONAL = [shapely.GeometryType.POLYGON.value, shapely.GeometryType.MULTIPOLYGON.value]
SIMPLIFIED_KEPT = 32
"""Sets of simplified shapes :func:`display_geometry` keeps (least recently used go first)."""
_simplified_cache: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
_simplified_lock = threading.Lock()


def display_geometry(
    geometry: gpd.GeoSeries, bounds: tuple[float, float, float, float] | None = None
) -> gpd.GeoSeries:
    """Simplify shapes for drawing (see :func:`_simplified`), once per set of shapes and view.

    Every session drawing the same regions at the same view gets the shapes simplified
    before: the answer is kept for the very same shape objects (the shared boundaries of
    ``pages/_shared/caches.py``, or a subset of them), compared by identity, so a shape
    changed in any way is simplified anew.

    Parameters
    ----------
    geometry
        Shapes in EPSG:4326 (see :func:`_simplified`).
    bounds
        (minx, miny, maxx, maxy) of the first view; the lower 48 when None.

    Returns
    -------
    GeoSeries
        Simplified shapes, aligned with ``geometry``.
    """
    shapes = geometry.to_numpy()
    key = (bounds or LOWER_48_BOUNDS, hash(tuple(map(id, shapes))))
    with _simplified_lock:
        kept = _simplified_cache.get(key)
        if kept is not None and len(kept[0]) == len(shapes) and all(map(operator.is_, kept[0], shapes)):
            _simplified_cache.move_to_end(key)
            return gpd.GeoSeries(kept[1], index=geometry.index, crs=geometry.crs)
    simplified = _simplified(geometry, bounds)
    with _simplified_lock:
        _simplified_cache[key] = (shapes, simplified.to_numpy())
        while len(_simplified_cache) > SIMPLIFIED_KEPT:
            _simplified_cache.popitem(last=False)
    return simplified


def _simplified(
    geometry: gpd.GeoSeries, bounds: tuple[float, float, float, float] | None = None
) -> gpd.GeoSeries:
    """Simplify shapes for drawing at the scale of the first view, as a coverage, on a coarser grid.

    The polygons are simplified together (``shapely.coverage_simplify``, Visvalingam–Whyatt):
    an edge two neighbours share is simplified once, so neighbours still meet with no gap and
    no overlap (each polygon simplified alone opened 0.025 deg² of gaps and 0.037 deg² of
    overlaps between the Illinois counties at 0.02°). The display tolerance is about one pixel
    of the view (at least :data:`DISPLAY_TOLERANCE_DEG`); the simplification uses
    :data:`COVERAGE_TOLERANCE_SCALE` times it and coordinates snap to a tenth of it, which keeps
    the GeoJSON sent to the browser small (every county at national scale: 3.18 MB → 1.37 MB).
    Snapping rounds each vertex alone, so shared vertices stay shared (reducing the precision
    of each polygon alone opened 0.002 deg² of gaps between the counties at national scale);
    the few polygons it leaves invalid are repaired from their own lines. Points are only
    snapped to the grid. Drawing only; measurements use the originals.

    Parameters
    ----------
    geometry
        Shapes in EPSG:4326. The polygons should form a coverage (no overlaps, shared edges
        with the same vertices), as the shipped states and most states' counties do; where
        neighbours' edges do not match (a few counties of California, Louisiana, Virginia and
        Puerto Rico), small overlaps may remain there.
    bounds
        (minx, miny, maxx, maxy) of the first view; the lower 48 when None.

    Returns
    -------
    GeoSeries
        Simplified shapes, aligned with ``geometry``.
    """
    minx, miny, maxx, maxy = bounds or LOWER_48_BOUNDS
    tolerance = max(DISPLAY_TOLERANCE_DEG, max(maxx - minx, maxy - miny) / VIEW_PIXELS)
    shapes = geometry.to_numpy().copy()
    polygonal = np.isin(shapely.get_type_id(shapes), _POLYGONAL)
    shapes[polygonal] = shapely.coverage_simplify(shapes[polygonal], COVERAGE_TOLERANCE_SCALE * tolerance)
    snapped = shapely.set_precision(shapes, tolerance / 10, mode="pointwise")
    broken = polygonal & ~shapely.is_valid(snapped)
    snapped[broken] = [
        _polygonal_parts(shape) for shape in shapely.make_valid(snapped[broken], method="linework")
    ]
    return gpd.GeoSeries(snapped, index=geometry.index, crs=geometry.crs)


def _polygonal_parts(shape: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(shape)
    return shapely.union_all(parts[np.isin(shapely.get_type_id(parts), _POLYGONAL)])


def text_tooltip(text: str, *, permanent: bool = False) -> folium.Tooltip:
    """A tooltip showing ``text`` as typed: folium pastes it into a JavaScript template literal.

    Parameters
    ----------
    text
        Plain text, possibly from the book (never HTML).
    permanent
        Show it open, not only on hover.

    Returns
    -------
    folium.Tooltip
        Bind it with ``tooltip=`` on a marker or shape.
    """
    return folium.Tooltip(template_literal(text), permanent=permanent)


def shape_details(
    shown: gpd.GeoDataFrame, fields: dict[str, str], *, labels: bool = True
) -> tuple[gpd.GeoDataFrame, folium.GeoJsonTooltip]:
    """Escape the text properties of shapes (the tooltip shows them as HTML) and build their tooltip.

    Parameters
    ----------
    shown
        The shapes to draw with their properties.
    fields
        Column → label shown when hovering a shape.
    labels
        Whether the tooltip shows the labels.

    Returns
    -------
    tuple
        The shapes with every text property escaped, and the tooltip to bind to their layer.
    """
    text = [c for c in shown.columns if c != shown.geometry.name and not is_numeric_dtype(shown[c])]
    escaped = shown.assign(
        **{c: shown[c].map(lambda v: template_literal(v) if isinstance(v, str) else v) for c in text}
    )
    details = folium.GeoJsonTooltip(
        fields=list(fields),
        aliases=[template_literal(f"{label}:") for label in fields.values()],
        labels=labels,
        localize=True,
    )
    return escaped, details


FIT_PADDING_PX = 24
"""The first view keeps this margin around what it fits: a ZIP circle or a point on the edge of
the view would be cut in half, and under the attribution line, where a click does not reach it."""
MAX_ZOOM = 18
"""The closest zoom of every map (street level; the basemap's tiles are drawn larger past their own)."""
WITHOUT_ANIMATIONS = {"fade_animation": False, "zoom_animation": False, "marker_zoom_animation": False}
"""Leaflet options of every map: tiles appear, zooms and markers move at once, without transitions.

Each transition redraws the page for a quarter of a second: in headless Chromium a page
switch to Sales by region took 0.9 CPU-seconds with them and 0.7 without (sign-in to its first
map 2.1 and 1.6), a saving for every phone and for a server's browsers in a sales meeting
(``benchmarks/concurrent_users.py``). Leaflet makes the same choice for Android."""
BASEMAP_ATTRIBUTION = "Natural Earth · US Census Bureau · GeoNames"
"""The sources of the offline basemap (data/README.md)."""


class VectorBasemap(MacroElement):
    """The offline basemap: land and water, state and county lines, and city labels by population.

    Vector tiles the app serves itself (:mod:`geo.maps.tiles`), drawn by the vendored
    protomaps-leaflet in the tile pane, under every overlay.
    """

    _template = Template(map_template("basemap.js"))

    def __init__(self) -> None:
        super().__init__()
        self._name = "VectorBasemap"
        self.tile_url = TILE_PATH
        self.max_data_zoom = MAX_DATA_ZOOM
        self.attribution = BASEMAP_ATTRIBUTION


def base_map(bounds: tuple[float, float, float, float] = LOWER_48_BOUNDS) -> folium.Map:
    """Create a map on the basemap that loads Leaflet from the app's static files.

    The basemap is the app's own offline vector tiles (:class:`VectorBasemap`), or the raster
    tile server of ``GCRM_TILE_URL`` with its attribution when one is set.

    Parameters
    ----------
    bounds
        (minx, miny, maxx, maxy) in degrees that the first view fits.

    Returns
    -------
    folium.Map
        A map whose only assets are the vendored scripts and styles (and the tile server's
        tiles, when one is set).
    """
    settings = load_settings()
    fmap = folium.Map(tiles=None, control_scale=True, zoom_snap=0.25)
    # folium hands max_zoom to a tile layer only; with none, Leaflet.markercluster refuses the map.
    fmap.options["max_zoom"] = MAX_ZOOM
    fmap.options.update(WITHOUT_ANIMATIONS)
    fmap.default_js = LEAFLET_JS if settings.tile_url else [*LEAFLET_JS, *BASEMAP_JS]
    fmap.default_css = LEAFLET_CSS
    if settings.tile_url:
        folium.TileLayer(
            tiles=settings.tile_url, attr=settings.tile_attribution or " ", control=False
        ).add_to(fmap)
    else:
        fmap.add_child(VectorBasemap())
    minx, miny, maxx, maxy = bounds
    fmap.fit_bounds([[miny, minx], [maxy, maxx]], padding=(FIT_PADDING_PX, FIT_PADDING_PX))
    return fmap


def draw_map(bounds: tuple[float, float, float, float] = LOWER_48_BOUNDS) -> folium.Map:
    """A map with a draw control for polygons, rectangles and circles (vendored Leaflet.draw).

    Parameters
    ----------
    bounds
        (minx, miny, maxx, maxy) of the first view.

    Returns
    -------
    folium.Map
        Read the drawings back with ``st_folium(..., returned_objects=["all_drawings"])``.
    """
    fmap = base_map(bounds)
    draw = Draw(
        export=False,
        draw_options={
            "polyline": False,
            "marker": False,
            "circlemarker": False,
            "polygon": {"allowIntersection": False, "showArea": True},
            "rectangle": True,
            "circle": True,
        },
        edit_options={"edit": True, "remove": True},
    )
    draw.default_js = DRAW_JS
    draw.default_css = DRAW_CSS
    draw.add_to(fmap)
    return fmap
