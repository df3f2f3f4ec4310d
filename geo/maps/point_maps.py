"""Folium maps of points: accounts around a rep (with a route), and a branch's trade areas."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
import shapely

from geo import formatting
from geo.maps.assets import map_template
from geo.maps.base import base_map, text_tooltip
from geo.maps.controls import Legend, LocateControl

STATUS_COLORS = {"customer": "#1a9850", "prospect": "#fdae61", "churned": "#d73027"}


def accounts_map(
    position: tuple[float, float],
    accounts: pd.DataFrame,
    *,
    route: pd.DataFrame | None = None,
    route_path: shapely.MultiLineString | None = None,
) -> folium.Map:
    """Accounts around a position, coloured by status, with an optional route through them.

    Parameters
    ----------
    position
        (lon, lat) of the rep.
    accounts
        ``lon, lat, name, status`` and ``distance_m``.
    route
        Stops in visiting order (``lon, lat, sequence``), numbered; joined by ``route_path``
        or, without it, by straight lines from the position.
    route_path
        The legs along the roads (EPSG:4326).

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
    if route is not None and len(route):
        if route_path is not None and not route_path.is_empty:
            path = [[[y, x] for x, y in leg.coords] for leg in route_path.geoms]
        else:
            path = [[position[1], position[0]], *[[r.lat, r.lon] for r in route.itertuples(index=False)]]
        folium.PolyLine(path, color="#253494", weight=3, opacity=0.8, interactive=False).add_to(fmap)
        for stop in route.itertuples(index=False):
            folium.Marker(
                [stop.lat, stop.lon],
                icon=folium.DivIcon(
                    html=map_template("route_stop.html").format(sequence=stop.sequence),
                    icon_size=(0, 0),
                    icon_anchor=(-6, 14),
                ),
                interactive=False,
            ).add_to(fmap)
    for row in accounts.itertuples(index=False):
        _account_marker(row, f"{row.name} ({row.status}, {row.distance_m / 1000:,.1f} km)").add_to(fmap)
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
    fmap.add_child(_status_legend())
    fmap.add_child(LocateControl())
    return fmap


def zip_accounts_map(accounts: pd.DataFrame) -> folium.Map:
    """The accounts of one ZIP (the deepest drill level) as points coloured by status.

    Parameters
    ----------
    accounts
        ``lon, lat, name, status, revenue`` (rows without a position are left out).

    Returns
    -------
    folium.Map
        The map, fitted to the accounts; each point's tooltip gives name, status and the
        revenue of the last 12 months.
    """
    placed = accounts.dropna(subset=["lon", "lat"])
    pad = 0.002
    fmap = base_map(
        (
            placed["lon"].min() - pad,
            placed["lat"].min() - pad,
            placed["lon"].max() + pad,
            placed["lat"].max() + pad,
        )
    )
    for row in placed.itertuples(index=False):
        tooltip = f"{row.name} ({row.status}, {formatting.money(row.revenue)} last 12 months)"
        _account_marker(row, tooltip, radius=7).add_to(fmap)
    fmap.add_child(_status_legend())
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
    fmap.add_child(_status_legend())
    return fmap


def _account_marker(row: tuple, tooltip: str, *, radius: int = 6) -> folium.CircleMarker:
    """An account as a point outlined in grey and filled with its status's colour (``lat, lon, status``)."""
    return folium.CircleMarker(
        [row.lat, row.lon],
        radius=radius,
        weight=1,
        color="#333333",
        fill=True,
        fill_opacity=0.9,
        fill_color=STATUS_COLORS.get(row.status, "#777777"),
        tooltip=text_tooltip(tooltip),
    )


def _status_legend() -> Legend:
    """The legend of account points: one colour per status."""
    return Legend("Accounts", [(color, status.title()) for status, color in STATUS_COLORS.items()])
