"""What a map's page loads from the app, never a CDN: the vendored scripts and the map templates.

Maps load Leaflet from ``static/vendor/`` through Streamlit's static serving
(``server.enableStaticServing``). The JavaScript and HTML that the builders add to a map
(legend, locate button, labels) are package data in ``geo/maps/templates/``: the ``.js``
files are Jinja templates that branca renders, the ``.html`` fragments take
:meth:`str.format` fields that callers fill with escaped text only.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

ASSET_BASE_URL = "/app/static/vendor"
LEAFLET_JS = [("leaflet", f"{ASSET_BASE_URL}/leaflet/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", f"{ASSET_BASE_URL}/leaflet/leaflet.css")]
BASEMAP_JS = [("protomaps_leaflet", f"{ASSET_BASE_URL}/protomaps-leaflet/protomaps-leaflet.js")]
DRAW_JS = [("leaflet_draw_js", f"{ASSET_BASE_URL}/leaflet-draw/leaflet.draw.js")]
DRAW_CSS = [("leaflet_draw_css", f"{ASSET_BASE_URL}/leaflet-draw/leaflet.draw.css")]
CLUSTER_JS = [("markerclusterjs", f"{ASSET_BASE_URL}/leaflet-markercluster/leaflet.markercluster.js")]
CLUSTER_CSS = [
    ("markerclustercss", f"{ASSET_BASE_URL}/leaflet-markercluster/MarkerCluster.css"),
    ("markerclusterdefaultcss", f"{ASSET_BASE_URL}/leaflet-markercluster/MarkerCluster.Default.css"),
]


@cache
def map_template(name: str) -> str:
    """Read a template of ``geo/maps/templates/`` (read once, then kept).

    Parameters
    ----------
    name
        File name, e.g. ``"legend.js"``.

    Returns
    -------
    str
        The template's text, without its final line break.
    """
    return resources.files("geo.maps").joinpath("templates", name).read_text(encoding="utf-8").rstrip("\n")
