"""Folium maps of regions: pick by clicking, choropleths of a measure, categories, hot and cold spots."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from geo.maps.assets import map_template
from geo.maps.base import base_map, display_geometry, shape_details
from geo.maps.classification import (
    NO_ACCOUNTS_COLOR,
    NO_DATA_COLOR,
    class_colors,
    classify,
    distinct_colors,
    legend_entries,
)
from geo.maps.controls import FitControl, Legend
from geo.maps.escaping import template_literal
from geo.places.geodesy import LOWER_48_BOUNDS, within_lower_48

MAX_LEGEND_ROWS = 16
SPOT_STYLES = {
    "hot": {"color": "#d7301f", "label": "Hot spot (Gi*, FDR 5%)"},
    "cold": {"color": "#2b8cbe", "label": "Cold spot (Gi*, FDR 5%)"},
}


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
        and :func:`geo.maps.clicks.clicked_key` with ``field="code"``.
    """
    bounds = bounds or tuple(regions.total_bounds)
    fmap = base_map(bounds)
    shown = regions[["code", "name"]].assign(
        picked=regions["code"].isin(selected), geometry=display_geometry(regions.geometry, bounds).to_numpy()
    )
    shown, details = shape_details(shown, {"name": "Region"}, labels=False)
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


def choropleth_map(
    regions: gpd.GeoDataFrame,
    *,
    value: str,
    value_label: str,
    tooltip: dict[str, str],
    scheme: str = "quantiles",
    classes: int = 5,
    bounds: tuple[float, float, float, float] | None = None,
    value_kind: str = "number",
    empty: pd.Series | None = None,
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
        Classification (see :data:`geo.maps.classification.SCHEMES`).
    classes
        Number of classes.
    bounds
        (minx, miny, maxx, maxy) to fit the view to; default the whole US.
    value_kind
        How the values read in the legend (``count``, ``money``, ``percent``, ``rate`` or
        ``number``; see :data:`geo.analysis.cube.MEASURE_KINDS`).
    empty
        Per region (aligned with ``regions``), whether it holds no accounts
        (:func:`geo.analysis.cube.empty_members`): drawn pale, "no accounts" in the legend, and
        left out of the classes, so that they spread over the regions that hold some (a
        manager's region among the country's zeros would be one class). Default: none.

    Returns
    -------
    folium.Map
        The map, ready for ``st_folium``.
    """
    empty = pd.Series(False, index=regions.index) if empty is None else empty.astype(bool)
    classed = regions.loc[~empty, value]
    whole = True if value_kind in ("count", "money") else None
    bins, classed_labels = classify(classed, scheme=scheme, classes=classes, whole=whole)
    colors = class_colors(len(bins))
    fills = pd.Series(NO_ACCOUNTS_COLOR, index=regions.index)
    fills[~empty] = [colors[i] if i >= 0 else NO_DATA_COLOR for i in classed_labels]
    kept = list(dict.fromkeys([*tooltip, *(["key"] if "key" in regions else [])]))
    shown = gpd.GeoDataFrame(
        regions[kept].copy(), geometry=display_geometry(regions.geometry, bounds), crs=regions.crs
    )
    shown["fill"] = fills.to_numpy()
    shown, details = shape_details(shown, tooltip)
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
    entries = legend_entries(bins, colors, classed, kind=value_kind)
    if empty.any():
        entries.append((NO_ACCOUNTS_COLOR, "no accounts"))
    fmap.add_child(Legend(value_label, entries))
    if bounds is None:
        fmap.add_child(FitControl())
    return fmap


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
    shown, details = shape_details(shown, tooltip)
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
                html=map_template("category_label.html").format(label=template_literal(names.get(key, key))),
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


def _region_style(feature: dict) -> dict:
    return {
        "fill": True,
        "fillColor": feature["properties"]["fill"],
        "color": "#666666",
        "weight": 0.5,
        "fillOpacity": 0.85,
    }
