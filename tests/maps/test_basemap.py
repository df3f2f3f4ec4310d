"""The offline basemap: vector tiles from the shipped archive, served by the app, drawn under every map."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from geo.config import PROJECT_DIR, load_settings
from geo.errors import SettingError
from geo.maps.base import BASEMAP_ATTRIBUTION, base_map
from geo.maps.tiles import BASEMAP_FILE, MAX_DATA_ZOOM, TileArchive
from serve import basemap_routes

ARCHIVE = PROJECT_DIR / "data" / BASEMAP_FILE
MAX_BASEMAP_BYTES = 40_000_000
"""The basemap's files may take at most 40 MB (the archive, the land it is built from, the renderer)."""


def _scripts(fmap) -> list[str]:
    return re.findall(r'<script[^>]+src="([^"]+)"', fmap.get_root().render())


def test_the_archive_holds_every_layer_at_every_zoom_and_stays_small() -> None:
    archive = TileArchive(ARCHIVE)
    chicago = {0: (0, 0), 4: (4, 5), 8: (65, 95)}
    for z, (x, y) in chicago.items():
        tile = gzip.decompress(archive.tile(z, x, y))
        assert b"land" in tile and b"states" in tile, z
        assert (b"counties" in tile) is (z >= 5), z
    assert b"Chicago" in gzip.decompress(archive.tile(8, 65, 95))
    assert archive.tile(MAX_DATA_ZOOM + 1, 0, 0) is None and archive.tile(3, 9, 0) is None
    files = [
        ARCHIVE,
        PROJECT_DIR / "data" / "land-50m.json",
        *(PROJECT_DIR / "static" / "vendor" / "protomaps-leaflet").iterdir(),
    ]
    assert sum(path.stat().st_size for path in files) <= MAX_BASEMAP_BYTES


def test_the_app_serves_tiles_gzipped_and_open_sea_empty() -> None:
    client = TestClient(Starlette(routes=basemap_routes(lambda: TileArchive(ARCHIVE))))
    tile = client.get("/basemap/4/4/5.mvt")
    assert tile.status_code == 200 and tile.headers["content-encoding"] == "gzip"
    assert tile.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert b"land" in tile.content and "max-age" in tile.headers["cache-control"]
    sea = client.get("/basemap/8/0/0.mvt")
    assert sea.status_code == 200 and sea.content == b""
    assert client.get("/basemap/4/x/5.mvt").status_code == 404


def test_every_map_draws_the_offline_basemap_from_the_app(monkeypatch) -> None:
    monkeypatch.delenv("GCRM_TILE_URL", raising=False)
    fmap = base_map()
    html = fmap.get_root().render()
    assert _scripts(fmap) == [
        "/app/static/vendor/leaflet/leaflet.js",
        "/app/static/vendor/protomaps-leaflet/protomaps-leaflet.js",
    ]
    assert 'url: "/basemap/{z}/{x}/{y}.mvt"' in html
    assert json.dumps(BASEMAP_ATTRIBUTION) in html


def test_a_tile_server_replaces_the_basemap_with_its_attribution(monkeypatch) -> None:
    monkeypatch.setenv("GCRM_TILE_URL", "https://tiles.example.org/{z}/{x}/{y}.png")
    monkeypatch.setenv("GCRM_TILE_ATTRIBUTION", "© Example &amp; contributors")
    fmap = base_map()
    html = fmap.get_root().render()
    assert "https://tiles.example.org/{z}/{x}/{y}.png" in html
    assert '"attribution": "\\u00a9 Example \\u0026amp; contributors"' in html
    assert "protomaps" not in " ".join(_scripts(fmap)) and "/basemap/" not in html


def test_a_tile_url_without_its_placeholders_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("GCRM_TILE_URL", "https://tiles.example.org/tile.png")
    with pytest.raises(SettingError, match=r"must hold \{z\}, \{x\} and \{y\}"):
        load_settings()


def test_every_map_draws_without_transitions() -> None:
    """Tiles fade, zooms and markers glide in Leaflet by default: each redraws the page for a
    quarter of a second, the largest part of the browser's work on a page switch after Streamlit's."""
    html = base_map().get_root().render()
    for option in ("fadeAnimation", "zoomAnimation", "markerZoomAnimation"):
        assert f'"{option}": false' in html, option
