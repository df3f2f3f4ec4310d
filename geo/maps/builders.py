"""Folium map builders that draw with no CDN: every script and style is served by the app.

Maps load Leaflet from ``static/vendor/`` through Streamlit's static serving
(``server.enableStaticServing``), never from a CDN; offline, region polygons
are the basemap. Legends are plain Leaflet controls (no d3, no branca colormap,
which would pull d3 from a CDN).
"""

from __future__ import annotations

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement, Template
from folium.plugins import Draw
from pandas.api.types import is_numeric_dtype

from geo.maps.escaping import js_string, template_literal
from geo.places.geodesy import LOWER_48_BOUNDS, METRIC_CRS, within_lower_48

ASSET_BASE_URL = "/app/static/vendor"
LEAFLET_JS = [("leaflet", f"{ASSET_BASE_URL}/leaflet/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", f"{ASSET_BASE_URL}/leaflet/leaflet.css")]
DRAW_JS = [("leaflet_draw_js", f"{ASSET_BASE_URL}/leaflet-draw/leaflet.draw.js")]
DRAW_CSS = [("leaflet_draw_css", f"{ASSET_BASE_URL}/leaflet-draw/leaflet.draw.css")]
STATUS_COLORS = {"customer": "#1a9850", "prospect": "#fdae61", "churned": "#d73027"}
PALETTE = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494", "#081d58")
"""ColorBrewer YlGnBu, light (low) to dark (high)."""
NO_DATA_COLOR = "#d9d9d9"
SCHEMES = {
    "quantiles": "Quantiles",
    "natural_breaks": "Natural breaks",
    "equal_interval": "Equal interval",
}
CLICK_RADIUS_M = 3_000
"""How far from a circle (a ZIP) a click still selects it."""
DISPLAY_TOLERANCE_DEG = 0.005
"""Finest simplification of polygons for display (never used for measurement)."""
VIEW_PIXELS = 1_200
"""A map is about this many pixels wide: detail finer than one pixel of the first view is dropped."""


def display_geometry(
    geometry: gpd.GeoSeries, bounds: tuple[float, float, float, float] | None = None
) -> gpd.GeoSeries:
    """Simplify shapes for drawing at the scale of the first view, on a coarser coordinate grid.

    The tolerance is about one pixel of the view (at least :data:`DISPLAY_TOLERANCE_DEG`), and
    coordinates snap to a tenth of it, which keeps the GeoJSON sent to the browser small (the
    states at national scale: 576 KB → 108 KB). Drawing only; measurements use the originals.

    Parameters
    ----------
    geometry
        Shapes in EPSG:4326.
    bounds
        (minx, miny, maxx, maxy) of the first view; the lower 48 when None.

    Returns
    -------
    GeoSeries
        Simplified shapes, aligned with ``geometry``.
    """
    minx, miny, maxx, maxy = bounds or LOWER_48_BOUNDS
    tolerance = max(DISPLAY_TOLERANCE_DEG, max(maxx - minx, maxy - miny) / VIEW_PIXELS)
    simplified = geometry.simplify(tolerance, preserve_topology=True)
    return gpd.GeoSeries(
        shapely.set_precision(simplified.to_numpy(), tolerance / 10), index=geometry.index, crs=geometry.crs
    )


def text_tooltip(text: str) -> folium.Tooltip:
    """A tooltip showing ``text`` as typed: folium pastes it into a JavaScript template literal.

    Parameters
    ----------
    text
        Plain text, possibly from the book (never HTML).

    Returns
    -------
    folium.Tooltip
        Bind it with ``tooltip=`` on a marker or shape.
    """
    return folium.Tooltip(template_literal(text))


def _details(
    shown: gpd.GeoDataFrame, fields: dict[str, str], *, labels: bool = True
) -> tuple[gpd.GeoDataFrame, folium.GeoJsonTooltip]:
    """Escape the text properties of shapes (the tooltip shows them as HTML) and build the tooltip."""
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


def base_map(bounds: tuple[float, float, float, float] = LOWER_48_BOUNDS) -> folium.Map:
    """Create an empty map with no tiles that loads Leaflet from the app's static files.

    Parameters
    ----------
    bounds
        (minx, miny, maxx, maxy) in degrees that the first view fits.

    Returns
    -------
    folium.Map
        A map whose only assets are the vendored Leaflet script and style.
    """
    fmap = folium.Map(tiles=None, control_scale=True, zoom_snap=0.25)
    fmap.default_js = LEAFLET_JS
    fmap.default_css = LEAFLET_CSS
    minx, miny, maxx, maxy = bounds
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap


def add_basemap(
    fmap: folium.Map, regions: gpd.GeoDataFrame, bounds: tuple[float, float, float, float]
) -> None:
    """Draw region outlines under everything else: offline, the regions are the basemap.

    Parameters
    ----------
    fmap
        The map.
    regions
        Polygons (states, counties) in EPSG:4326; only those touching ``bounds`` are drawn.
    bounds
        (minx, miny, maxx, maxy) of the view.
    """
    minx, miny, maxx, maxy = bounds
    shown = regions.cx[minx:maxx, miny:maxy]
    outlines = gpd.GeoDataFrame(geometry=display_geometry(shown.geometry, bounds).to_numpy(), crs=regions.crs)
    folium.GeoJson(
        outlines.to_json(drop_id=True),
        name="Regions",
        style_function=lambda _feature: {
            "fillColor": "#f2f0eb",
            "fillOpacity": 1,
            "color": "#b8b2a7",
            "weight": 0.7,
        },
        interactive=False,
    ).add_to(fmap)


def draw_map(
    bounds: tuple[float, float, float, float] = LOWER_48_BOUNDS, *, basemap: gpd.GeoDataFrame | None = None
) -> folium.Map:
    """A map with a draw control for polygons, rectangles and circles (vendored Leaflet.draw).

    Parameters
    ----------
    bounds
        (minx, miny, maxx, maxy) of the first view.
    basemap
        Region polygons drawn underneath (e.g. the states), so there is something to draw on.

    Returns
    -------
    folium.Map
        Read the drawings back with ``st_folium(..., returned_objects=["all_drawings"])``.
    """
    fmap = base_map(bounds)
    if basemap is not None:
        add_basemap(fmap, basemap, bounds)
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


def selection_map(
    regions: gpd.GeoDataFrame,
    selected: set[str],
    bounds: tuple[float, float, float, float] | None = None,
) -> folium.Map:
    """Regions to pick by clicking: the selected ones filled, every one named on hover.

    Parameters
    ----------
    regions
        Polygons with ``code`` and ``name`` in EPSG:4326 (states, or one state's counties).
    selected
        Codes of the regions picked so far.
    bounds
        (minx, miny, maxx, maxy) of the first view; default: the regions' extent.

    Returns
    -------
    folium.Map
        Read clicks back with ``st_folium(..., returned_objects=["last_object_clicked"])``
        and :func:`clicked_key` with ``field="code"``.
    """
    bounds = bounds or tuple(regions.total_bounds)
    fmap = base_map(bounds)
    shown = regions[["code", "name"]].assign(
        picked=regions["code"].isin(selected), geometry=display_geometry(regions.geometry, bounds).to_numpy()
    )
    shown, details = _details(shown, {"name": "Region"}, labels=False)
    folium.GeoJson(
        gpd.GeoDataFrame(shown, geometry="geometry", crs=regions.crs).to_json(drop_id=True),
        name="Pick regions",
        style_function=lambda feature: {
            "fillColor": "#253494" if feature["properties"]["picked"] else "#f2f0eb",
            "fillOpacity": 0.6 if feature["properties"]["picked"] else 1,
            "color": "#7a7468",
            "weight": 0.8,
        },
        highlight_function=lambda _feature: {"weight": 2.5, "color": "#253494"},
        tooltip=details,
    ).add_to(fmap)
    return fmap


def accounts_map(
    position: tuple[float, float],
    accounts: pd.DataFrame,
    *,
    route: pd.DataFrame | None = None,
    basemap: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Accounts around a position, coloured by status, with an optional route through them.

    Parameters
    ----------
    position
        (lon, lat) of the rep.
    accounts
        ``lon, lat, name, status`` and ``distance_m``.
    route
        Stops in visiting order (``lon, lat, sequence``), drawn as a numbered line from the position.
    basemap
        Region polygons drawn underneath (e.g. the counties).

    Returns
    -------
    folium.Map
        The map.
    """
    lons = [position[0], *accounts["lon"]]
    lats = [position[1], *accounts["lat"]]
    pad = 0.01
    bounds = (min(lons) - pad, min(lats) - pad, max(lons) + pad, max(lats) + pad)
    fmap = base_map(bounds)
    if basemap is not None:
        add_basemap(fmap, basemap, bounds)
    if route is not None and len(route):
        path = [[position[1], position[0]], *[[r.lat, r.lon] for r in route.itertuples(index=False)]]
        folium.PolyLine(path, color="#253494", weight=3, opacity=0.8).add_to(fmap)
        for stop in route.itertuples(index=False):
            folium.Marker(
                [stop.lat, stop.lon],
                icon=folium.DivIcon(
                    html=(
                        '<div class="gcrm-stop" style="font: 700 11px sans-serif; color: #253494;">'
                        f"{stop.sequence}</div>"
                    ),
                    icon_size=(0, 0),
                    icon_anchor=(-6, 14),
                ),
                interactive=False,
            ).add_to(fmap)
    for row in accounts.itertuples(index=False):
        folium.CircleMarker(
            [row.lat, row.lon],
            radius=6,
            weight=1,
            color="#333333",
            fill=True,
            fill_opacity=0.9,
            fill_color=STATUS_COLORS.get(row.status, "#777777"),
            tooltip=text_tooltip(f"{row.name} ({row.status}, {row.distance_m / 1000:,.1f} km)"),
        ).add_to(fmap)
    folium.CircleMarker(
        [position[1], position[0]],
        radius=9,
        color="#000000",
        weight=3,
        fill=True,
        fill_color="#ffffff",
        fill_opacity=1,
        tooltip=text_tooltip("You are here"),
    ).add_to(fmap)
    fmap.add_child(Legend("Accounts", [(c, s.title()) for s, c in STATUS_COLORS.items()]))
    fmap.add_child(LocateControl())
    return fmap


def trade_area_map(
    areas: gpd.GeoDataFrame, accounts: gpd.GeoDataFrame, branch: shapely.Point, branch_name: str
) -> folium.Map:
    """A branch's trade areas with the accounts inside them, coloured by status.

    Parameters
    ----------
    areas
        The branch's trade areas (EPSG:4326), whose extent the view fits.
    accounts
        Points with ``name`` and ``status``: keep them to a few thousand.
    branch
        The branch's position.
    branch_name
        Shown when hovering the branch.

    Returns
    -------
    folium.Map
        The map.
    """
    fmap = base_map(tuple(areas.total_bounds))
    folium.GeoJson(
        areas[["geometry"]].to_json(drop_id=True),
        style_function=lambda _feature: {
            "color": "#253494",
            "weight": 2,
            "fillColor": "#41b6c4",
            "fillOpacity": 0.12,
        },
        interactive=False,
    ).add_to(fmap)
    for row in accounts.itertuples():
        folium.CircleMarker(
            [row.geometry.y, row.geometry.x],
            radius=3,
            weight=0,
            fill=True,
            fill_opacity=0.8,
            fill_color=STATUS_COLORS.get(row.status, "#777777"),
            tooltip=text_tooltip(f"{row.name} ({row.status})"),
        ).add_to(fmap)
    folium.CircleMarker(
        [branch.y, branch.x],
        radius=8,
        color="#000000",
        weight=2,
        fill=True,
        fill_color="#ffffff",
        fill_opacity=1,
        tooltip=text_tooltip(branch_name),
    ).add_to(fmap)
    fmap.add_child(Legend("Accounts", [(c, s.title()) for s, c in STATUS_COLORS.items()]))
    return fmap


def classify(values: pd.Series, *, scheme: str, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Split values into classes with mapclassify.

    Parameters
    ----------
    values
        Values to classify; NaN stays unclassified.
    scheme
        ``quantiles``, ``natural_breaks`` or ``equal_interval``.
    classes
        Wanted number of classes; fewer when there are fewer distinct values.

    Returns
    -------
    tuple of ndarray
        The upper bound of each class, and each value's class (-1 for NaN).
    """
    if scheme not in SCHEMES:
        msg = f"Unknown classification {scheme!r}; choose one of {', '.join(SCHEMES)}."
        raise ValueError(msg)
    present = values.notna().to_numpy()
    data = values[present].to_numpy(dtype=float)
    labels = np.full(len(values), -1)
    distinct = len(np.unique(data))
    if distinct == 0:
        return np.array([]), labels
    if distinct <= classes:
        bins = np.unique(data)
        labels[present] = np.searchsorted(bins, data)
        return bins, labels
    classifier = {
        "quantiles": mapclassify.Quantiles,
        "natural_breaks": mapclassify.NaturalBreaks,
        "equal_interval": mapclassify.EqualInterval,
    }[scheme](data, k=classes)
    labels[present] = classifier.yb
    return np.asarray(classifier.bins), labels


def class_colors(count: int) -> list[str]:
    """Pick ``count`` colours spread over the palette, light to dark.

    Parameters
    ----------
    count
        Number of classes.

    Returns
    -------
    list of str
        Hex colours.
    """
    if count <= 0:
        return []
    positions = np.linspace(0, len(PALETTE) - 1, count).round().astype(int)
    return [PALETTE[i] for i in positions]


def choropleth_map(
    regions: gpd.GeoDataFrame,
    *,
    value: str,
    value_label: str,
    tooltip: dict[str, str],
    scheme: str = "quantiles",
    classes: int = 5,
    bounds: tuple[float, float, float, float] | None = None,
) -> folium.Map:
    """Draw regions coloured by ``value`` with a classified legend and tooltips.

    Parameters
    ----------
    regions
        Polygons, or points drawn as circles (EPSG:4326), with the ``value`` column and
        the tooltip columns (``key`` is kept for clicks when present).
    value
        Column that sets the colour.
    value_label
        What the legend calls the value.
    tooltip
        Column → label shown when hovering a region.
    scheme
        Classification (see :data:`SCHEMES`).
    classes
        Number of classes.
    bounds
        (minx, miny, maxx, maxy) to fit the view to; default the whole US.

    Returns
    -------
    folium.Map
        The map, ready for ``st_folium``.
    """
    bins, labels = classify(regions[value], scheme=scheme, classes=classes)
    colors = class_colors(len(bins))
    kept = list(dict.fromkeys([*tooltip, *(["key"] if "key" in regions else [])]))
    shown = gpd.GeoDataFrame(
        regions[kept].copy(), geometry=display_geometry(regions.geometry, bounds), crs=regions.crs
    )
    shown["fill"] = [colors[i] if i >= 0 else NO_DATA_COLOR for i in labels]
    shown, details = _details(shown, tooltip)
    fmap = base_map(bounds or LOWER_48_BOUNDS)
    points = bool(len(shown)) and (shown.geom_type == "Point").all()
    folium.GeoJson(
        shown.to_json(drop_id=True),
        name=value_label,
        marker=folium.CircleMarker(radius=7) if points else None,
        style_function=_region_style,
        highlight_function=lambda _feature: {"weight": 2.5, "color": "#222"},
        tooltip=details,
    ).add_to(fmap)
    fmap.add_child(Legend(value_label, legend_entries(bins, colors, regions[value])))
    return fmap


CATEGORY_PALETTE = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#1f78b4",
    "#b2df8a",
    "#fb9a99",
    "#cab2d6",
    "#fdbf6f",
)
"""Qualitative colours (ColorBrewer Dark2 and Paired) for categories such as territories."""
MAX_LEGEND_ROWS = 16


def distinct_colors(areas: gpd.GeoSeries) -> list[str]:
    """Colour areas so that touching ones differ (greedy graph colouring, largest first).

    Parameters
    ----------
    areas
        One polygon per category (e.g. a territory's outline).

    Returns
    -------
    list of str
        A colour of :data:`CATEGORY_PALETTE` per area, in the order of ``areas``.
    """
    geometry = areas.to_numpy()
    tree = shapely.STRtree(geometry)
    left, right = tree.query(geometry, predicate="intersects")
    touching: dict[int, set[int]] = {i: set() for i in range(len(geometry))}
    for a, b in zip(left, right, strict=True):
        if a != b:
            touching[int(a)].add(int(b))
    chosen: dict[int, int] = {}
    for area in sorted(touching, key=lambda i: (-len(touching[i]), i)):
        used = {chosen[n] for n in touching[area] if n in chosen}
        chosen[area] = next(c for c in range(len(CATEGORY_PALETTE) + len(geometry)) if c not in used)
    return [CATEGORY_PALETTE[chosen[i] % len(CATEGORY_PALETTE)] for i in range(len(geometry))]


def category_map(
    units: gpd.GeoDataFrame,
    *,
    category: str,
    names: dict,
    tooltip: dict[str, str],
    outlines: gpd.GeoDataFrame,
    title: str,
    selected: str | None = None,
) -> folium.Map:
    """Draw units coloured by the category they belong to, with category labels and outlines.

    Parameters
    ----------
    units
        Polygons with ``key`` (unit code), the ``category`` column and the tooltip columns.
    category
        Column naming each unit's category (NaN: none, drawn grey).
    names
        Category → label written on the map and in the legend.
    tooltip
        Column → label shown when hovering a unit.
    outlines
        One polygon per category (``category`` column and geometry): colours are chosen so
        that touching categories differ, and each label sits inside its outline.
    title
        Legend heading.
    selected
        A unit key to outline in black.

    Returns
    -------
    folium.Map
        The map, ready for ``st_folium``.
    """
    colours = dict(zip(outlines[category], distinct_colors(outlines.geometry), strict=True))
    kept = list(dict.fromkeys([*tooltip, "key"]))
    minx, miny, maxx, maxy = outlines.total_bounds if len(outlines) else LOWER_48_BOUNDS
    view = within_lower_48((minx, miny, maxx, maxy))
    shown = gpd.GeoDataFrame(
        units[kept].copy(), geometry=display_geometry(units.geometry, view), crs=units.crs
    )
    shown["fill"] = [colours.get(c, NO_DATA_COLOR) for c in units[category]]
    shown, details = _details(shown, tooltip)
    fmap = base_map(view)
    folium.GeoJson(
        shown.to_json(drop_id=True),
        name=title,
        style_function=_region_style,
        highlight_function=lambda _feature: {"weight": 2.5, "color": "#222"},
        tooltip=details,
    ).add_to(fmap)
    folium.GeoJson(
        gpd.GeoDataFrame(geometry=display_geometry(outlines.geometry, view), crs=outlines.crs).to_json(
            drop_id=True
        ),
        style_function=lambda _feature: {"fill": False, "color": "#333333", "weight": 1.5},
        interactive=False,
    ).add_to(fmap)
    for key, point in zip(outlines[category], outlines.geometry.representative_point(), strict=True):
        folium.Marker(
            [point.y, point.x],
            icon=folium.DivIcon(
                html=(
                    '<div style="font: 600 11px sans-serif; color: #111; white-space: nowrap;'
                    ' text-shadow: 0 0 3px #fff, 0 0 3px #fff;">'
                    f"{template_literal(names.get(key, key))}</div>"
                ),
                icon_size=(0, 0),
                class_name="gcrm-label",
            ),
            interactive=False,
        ).add_to(fmap)
    if selected is not None:
        picked = units[units["key"] == selected]
        if len(picked):
            folium.GeoJson(
                gpd.GeoDataFrame(geometry=picked.geometry, crs=units.crs).to_json(drop_id=True),
                style_function=lambda _feature: {"fill": False, "color": "#000000", "weight": 3},
                interactive=False,
            ).add_to(fmap)
    entries = [(colours[c], str(names.get(c, c))) for c in outlines[category]][:MAX_LEGEND_ROWS]
    if len(outlines) > MAX_LEGEND_ROWS:
        entries.append(("#ffffff", f"… {len(outlines) - MAX_LEGEND_ROWS} more (labels on the map)"))
    if units[category].isna().any():
        entries.append((NO_DATA_COLOR, "no territory"))
    fmap.add_child(Legend(title, entries))
    return fmap


SPOT_STYLES = {
    "hot": {"color": "#d7301f", "label": "Hot spot (Gi*, FDR 5%)"},
    "cold": {"color": "#2b8cbe", "label": "Cold spot (Gi*, FDR 5%)"},
}


def add_spots(fmap: folium.Map, spots: gpd.GeoDataFrame) -> folium.Map:
    """Outline significant hot and cold spots on a map, with their own legend.

    Parameters
    ----------
    fmap
        The map (a choropleth).
    spots
        Regions with ``spot`` ('hot', 'cold', 'not significant') and geometry.

    Returns
    -------
    folium.Map
        The same map, for chaining.
    """
    marked = spots[spots["spot"].isin(list(SPOT_STYLES))]
    if len(marked):
        outlines = gpd.GeoDataFrame(
            {"spot": marked["spot"].to_numpy()},
            geometry=display_geometry(marked.geometry, tuple(spots.total_bounds)).to_numpy(),
            crs=spots.crs,
        )
        folium.GeoJson(
            outlines.to_json(drop_id=True),
            name="Hot and cold spots",
            style_function=lambda feature: {
                "fill": False,
                "color": SPOT_STYLES[feature["properties"]["spot"]]["color"],
                "weight": 3,
            },
            interactive=False,
        ).add_to(fmap)
    entries = [
        (style["color"], f"{style['label']}: {int((spots['spot'] == spot).sum())}")
        for spot, style in SPOT_STYLES.items()
    ]
    fmap.add_child(Legend("Hot and cold spots", entries, position="topright"))
    return fmap


def clicked_key(returned: dict | None, regions: gpd.GeoDataFrame, *, field: str = "key") -> str | None:
    """Find which drawn region a user clicked, from what ``st_folium`` returned.

    Parameters
    ----------
    returned
        The dict ``st_folium(..., returned_objects=["last_object_clicked"])`` gives back;
        its ``last_object_clicked`` is the clicked point as ``{"lat": …, "lng": …}``.
    regions
        The regions drawn (EPSG:4326) with the ``field`` column; polygons are hit
        when they contain the point, circles (points) when within ``CLICK_RADIUS_M``.
    field
        The column holding the region key.

    Returns
    -------
    str or None
        The clicked region's key, None when the click hit no region.
    """
    point = (returned or {}).get("last_object_clicked") or {}
    if point.get("lat") is None or point.get("lng") is None or regions.empty:
        return None
    clicked = shapely.Point(float(point["lng"]), float(point["lat"]))
    polygons = regions[regions.geom_type != "Point"]
    hit = polygons[polygons.contains(clicked)]
    if len(hit):
        return str(hit.iloc[0][field])
    circles = regions[regions.geom_type == "Point"]
    if circles.empty:
        return None
    metric = circles.to_crs(METRIC_CRS)
    where = gpd.GeoSeries([clicked], crs=regions.crs).to_crs(METRIC_CRS).iloc[0]
    distances = metric.distance(where)
    nearest = distances.idxmin()
    return str(circles.loc[nearest, field]) if distances[nearest] <= CLICK_RADIUS_M else None


def legend_entries(bins: np.ndarray, colors: list[str], values: pd.Series) -> list[tuple[str, str]]:
    """Label each class as a value range, plus a 'no data' entry when some are missing.

    Parameters
    ----------
    bins
        Upper bound of each class, ascending.
    colors
        One colour per class.
    values
        The classified values (for the lowest bound and missing values).

    Returns
    -------
    list of (colour, label)
        Legend rows, low to high.
    """
    entries = []
    present = values.dropna()
    integers = bool(len(present)) and bool((present == present.round()).all())
    lower = present.min() if len(present) else np.nan
    for upper, color in zip(bins, colors, strict=True):
        label = _number(upper) if lower >= upper else f"{_number(lower)} – {_number(upper)}"
        entries.append((color, label))
        lower = upper + 1 if integers else upper
    if values.isna().any():
        entries.append((NO_DATA_COLOR, "no data"))
    return entries


class Legend(MacroElement):
    """A Leaflet control in the map's corner listing colour → range.

    Parameters
    ----------
    title
        Heading of the legend.
    entries
        (colour, label) rows, low to high.
    position
        Leaflet control corner.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: {{ this.position | tojson }}});
            legend.onAdd = function() {
                var div = L.DomUtil.create("div", "gcrm-legend");
                div.style.cssText = "background: rgba(255,255,255,0.92); padding: 6px 10px;"
                    + " border-radius: 4px; font: 12px/1.5 sans-serif;"
                    + " box-shadow: 0 1px 4px rgba(0,0,0,0.3);";
                div.innerHTML = {{ this.body_literal }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str, entries: list[tuple[str, str]], *, position: str = "bottomright") -> None:
        super().__init__()
        self._name = "Legend"
        self.position = position
        rows = "".join(
            f'<div><span style="display:inline-block;width:14px;height:14px;margin-right:6px;'
            f'vertical-align:middle;border:1px solid #888;background:{color}"></span>'
            f"{template_literal(label)}</div>"
            for color, label in entries
        )
        self.body = f"<strong>{template_literal(title)}</strong>{rows}"
        self.body_literal = js_string(self.body)


def _region_style(feature: dict) -> dict:
    return {
        "fill": True,
        "fillColor": feature["properties"]["fill"],
        "color": "#666666",
        "weight": 0.5,
        "fillOpacity": 0.85,
    }


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


class LocateControl(MacroElement):
    """A "use my location" button: the browser's position becomes a click on the map.

    The page reads map clicks (``st_folium``'s ``last_clicked``), so a located position
    reaches it the same way as a click, with no component of its own. Browsers answer
    only on ``localhost`` or HTTPS and after the user allows it; a refusal shows on the
    button.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var control = L.control({position: "topleft"});
            control.onAdd = function() {
                var button = L.DomUtil.create("a", "leaflet-bar gcrm-locate");
                button.href = "#";
                button.title = "Use my location";
                button.setAttribute("role", "button");
                button.innerHTML = "&#9678;";
                button.style.cssText = "display: block; width: 30px; height: 30px; line-height: 30px;"
                    + " text-align: center; background: #fff; font-size: 18px; color: #253494;";
                L.DomEvent.on(button, "click", function(event) {
                    L.DomEvent.stop(event);
                    if (!navigator.geolocation) {
                        button.title = "This browser cannot tell where it is";
                        return;
                    }
                    button.style.color = "#999";
                    navigator.geolocation.getCurrentPosition(function(found) {
                        button.style.color = "#253494";
                        map.fire("click", {latlng: L.latLng(found.coords.latitude, found.coords.longitude)});
                    }, function(error) {
                        button.style.color = "#b00";
                        button.title = "Location unavailable: " + error.message;
                    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
                });
                return button;
            };
            control.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "LocateControl"
