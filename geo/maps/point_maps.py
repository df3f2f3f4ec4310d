"""Folium maps of points: accounts around a rep (with a route) or in a region, a branch's trade areas.

Accounts of a region or a trade area are drawn by :func:`add_account_points`: plain points up to
:data:`CLUSTER_ABOVE` of them, clusters of the vendored Leaflet.markercluster above (built in the
browser from one array, so a map stays light), and the account picked in the page's table apart,
on top, with its tooltip open.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
import shapely
from folium.plugins import FastMarkerCluster

from geo import formatting
from geo.maps.assets import CLUSTER_CSS, CLUSTER_JS, map_template
from geo.maps.base import base_map, text_tooltip
from geo.maps.controls import Legend, LocateControl
from geo.maps.escaping import template_literal

STATUS_COLORS = {"customer": "#1a9850", "prospect": "#fdae61", "churned": "#d73027"}
CLUSTER_ABOVE = 100
"""A map draws more account points than this in clusters; this many or fewer one by one."""
POINT_RADIUS_PX = 7
"""The radius of an account point of a region or a trade area."""
PICKED_RADIUS_PX = 11
"""The radius of the account picked in the table (outlined in black, its tooltip open)."""
PICKED_PANE = "gcrm-picked"
"""The map pane of the picked account: above the clusters' bubbles (Leaflet's marker pane is 600)."""
UNKNOWN_STATUS_COLOR = "#777777"


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


def zip_accounts_map(accounts: pd.DataFrame, *, picked: str | None = None) -> folium.Map:
    """The accounts of one ZIP (the deepest drill level) as points coloured by status.

    Parameters
    ----------
    accounts
        ``external_id, lon, lat, name, status, revenue`` (rows without a position are left out).
    picked
        The external id of the account picked in the page's table, drawn apart (or None).

    Returns
    -------
    folium.Map
        The map, fitted to the accounts; each point's tooltip gives name, status and the
        revenue of the last 12 months; clustered above :data:`CLUSTER_ABOVE` accounts.
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
    add_account_points(fmap, placed, picked=picked)
    fmap.add_child(_status_legend())
    return fmap


def add_account_points(
    fmap: folium.Map,
    accounts: pd.DataFrame,
    *,
    picked: str | None = None,
    cluster_above: int = CLUSTER_ABOVE,
) -> None:
    """Draw accounts as points coloured by status: clustered when many, the picked one apart.

    Parameters
    ----------
    fmap
        The map to draw on.
    accounts
        ``external_id, lon, lat, name, status, revenue`` (placed accounts only).
    picked
        The external id of the account to show apart: larger, outlined in black, above the
        clusters, with its tooltip open (None: none).
    cluster_above
        Cluster more points than this. A map whose clicks on objects drill into regions
        under the points keeps its points apart (a click on a cluster, meant to zoom in,
        would open the region beneath).
    """
    chosen = accounts["external_id"] == picked
    others = accounts[~chosen]
    if len(others) > cluster_above:
        rows = [
            [
                row.lat,
                row.lon,
                _status_color(row.status),
                template_literal(_account_text(row)),
                POINT_RADIUS_PX,
            ]
            for row in others.itertuples(index=False)
        ]
        cluster = FastMarkerCluster(rows, callback=map_template("account_point.js"), control=False)
        cluster.default_js = CLUSTER_JS
        cluster.default_css = CLUSTER_CSS
        cluster.add_to(fmap)
    else:
        for row in others.itertuples(index=False):
            _account_marker(row, _account_text(row), radius=POINT_RADIUS_PX).add_to(fmap)
    if not chosen.any():
        return
    row = next(accounts[chosen].itertuples(index=False))
    fmap.add_child(folium.map.CustomPane(PICKED_PANE, z_index=650, pointer_events=True))
    marker = _account_marker(row, _account_text(row), radius=PICKED_RADIUS_PX, picked=True)
    marker.options["pane"] = PICKED_PANE  # folium's path options drop a pane
    marker.add_to(fmap)


def _account_text(row: tuple) -> str:
    """What an account's tooltip says: name, status and revenue of the last 12 months."""
    return f"{row.name} ({row.status}, {formatting.money(row.revenue)} last 12 months)"


def _status_color(status: str) -> str:
    return STATUS_COLORS.get(status, UNKNOWN_STATUS_COLOR)


def trade_area_map(
    areas: gpd.GeoDataFrame,
    accounts: gpd.GeoDataFrame,
    branch: shapely.Point,
    branch_name: str,
    *,
    picked: str | None = None,
) -> folium.Map:
    """A branch's trade areas with the accounts inside them, coloured by status.

    Parameters
    ----------
    areas
        The trade areas to draw (EPSG:4326), whose extent the view fits.
    accounts
        Points with ``external_id, name, status, revenue`` (see :func:`add_account_points`:
        clustered when many).
    branch
        The branch's position.
    branch_name
        Shown when hovering the branch.
    picked
        The external id of the account picked in the page's table (or None).

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
    points = pd.DataFrame(accounts.drop(columns=accounts.geometry.name)).assign(
        lon=accounts.geometry.x.to_numpy(), lat=accounts.geometry.y.to_numpy()
    )
    add_account_points(fmap, points, picked=picked)
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


def _account_marker(
    row: tuple, tooltip: str, *, radius: int = 6, picked: bool = False
) -> folium.CircleMarker:
    """An account as a point filled with its status's colour (``lat, lon, status``): outlined in
    grey, or, when picked in a table, outlined in black, opaque and with its tooltip open."""
    return folium.CircleMarker(
        [row.lat, row.lon],
        radius=radius,
        weight=3 if picked else 1,
        color="#000000" if picked else "#333333",
        fill=True,
        fill_opacity=1 if picked else 0.9,
        fill_color=_status_color(row.status),
        tooltip=text_tooltip(tooltip, permanent=picked),
    )


def _status_legend() -> Legend:
    """The legend of account points: one colour per status."""
    return Legend("Accounts", [(color, status.title()) for status, color in STATUS_COLORS.items()])
