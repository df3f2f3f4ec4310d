"""Travel speeds of the road network: a way's ``maxspeed`` where tagged, else a speed per road class.

The defaults are those of a car on free-flowing roads (close to the car profiles of the
common open routing engines). An administrator may override any of them with a TOML file::

    [speeds_kmh]
    residential = 25
    motorway = 105

Only the road classes below may be named; an unknown class is an error that lists them.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from geo.errors import RoadNetworkError

DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "motorway": 110.0,
    "motorway_link": 60.0,
    "trunk": 90.0,
    "trunk_link": 50.0,
    "primary": 70.0,
    "primary_link": 45.0,
    "secondary": 60.0,
    "secondary_link": 40.0,
    "tertiary": 50.0,
    "tertiary_link": 35.0,
    "unclassified": 40.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 20.0,
    "road": 30.0,
}
"""Speed in km/h per OSM ``highway`` class, used where a way has no readable ``maxspeed``."""

FALLBACK_CLASS = "road"
"""The class whose speed a way of any other drivable class gets (``highway=road`` means "unknown")."""

MPH_KMH = 1.609344

_MAXSPEED = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", re.IGNORECASE)


def parse_maxspeed(text: object) -> float | None:
    """Read an OSM ``maxspeed`` value in km/h.

    Parameters
    ----------
    text
        The tag as written: ``50``, ``30 mph``, ``50;70`` (the first counts), or a word such
        as ``none`` or ``signals``; missing values may be None or NaN.

    Returns
    -------
    float or None
        km/h, or None when the tag gives no number (the road class's speed applies).
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    first = str(text).split(";")[0]
    match = _MAXSPEED.match(first)
    if match is None:
        return None
    value = float(match.group(1).replace(",", "."))
    if match.group(2) and match.group(2).lower() == "mph":
        value *= MPH_KMH
    return value if value > 0 else None


def load_speeds(path: Path | None) -> dict[str, float]:
    """The speeds per road class: the defaults, with those of a TOML file over them.

    Parameters
    ----------
    path
        A TOML file with a ``[speeds_kmh]`` table, or None for the defaults.

    Returns
    -------
    dict
        km/h per class, every class of :data:`DEFAULT_SPEEDS_KMH`.

    Raises
    ------
    RoadNetworkError
        The file cannot be read, names an unknown class or gives a speed that is not a
        positive number.
    """
    speeds = dict(DEFAULT_SPEEDS_KMH)
    if path is None:
        return speeds
    try:
        table = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("speeds_kmh", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        msg = f"Cannot read the speed file {Path(path).name}: {exc}"
        raise RoadNetworkError(msg) from exc
    if not isinstance(table, Mapping) or not table:
        msg = f"The speed file {Path(path).name} has no [speeds_kmh] table."
        raise RoadNetworkError(msg)
    for name, value in table.items():
        road_class = str(name).strip().lower()
        if road_class not in speeds:
            msg = f"Unknown road class {name!r} in {Path(path).name}; the classes are: {', '.join(speeds)}."
            raise RoadNetworkError(msg)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            msg = f"The speed of {name!r} in {Path(path).name} must be a positive km/h, not {value!r}."
            raise RoadNetworkError(msg)
        speeds[road_class] = float(value)
    return speeds
