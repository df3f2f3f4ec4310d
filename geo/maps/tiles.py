"""The offline basemap's vector tiles: read one tile of ``basemap.pmtiles`` for the app to serve.

The archive (built by ``data/build_basemap.py`` from the shipped boundaries, cities and
Natural Earth land) holds gzipped Mapbox Vector Tiles for zoom 0–8; deeper zooms draw from
zoom 8 in the browser. The app serves them at :data:`TILE_PATH`.
"""

from __future__ import annotations

from pathlib import Path

from pmtiles.reader import MemorySource, Reader

BASEMAP_FILE = "basemap.pmtiles"
TILE_PATH = "/basemap/{z}/{x}/{y}.mvt"
"""Where the app serves the tiles (a Starlette route and the browser's URL template)."""
MAX_DATA_ZOOM = 8


class TileArchive:
    """One PMTiles archive, read into memory once (a few MB) and shared by every thread.

    Parameters
    ----------
    path
        The ``.pmtiles`` file.
    """

    def __init__(self, path: Path) -> None:
        self._reader = Reader(MemorySource(Path(path).read_bytes()))

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The gzipped vector tile at ``z/x/y``, or None where the archive has none.

        Parameters
        ----------
        z, x, y
            Tile coordinates (XYZ, y from the north).

        Returns
        -------
        bytes or None
            The tile as stored (gzip-compressed MVT).
        """
        if not 0 <= z <= MAX_DATA_ZOOM or not (0 <= x < 2**z and 0 <= y < 2**z):
            return None
        return self._reader.get(z, x, y)
