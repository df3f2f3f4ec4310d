"""Campaign targets: parts made of shapes, regions, territories and trade areas, combined in order.

A target is a sequence of parts combined left to right by union, intersection or
difference. Each part is an exact test on an account — a circle measured on the sphere, a
polygon with great-circle edges, equality on a stored region key, a territory, a branch's
trade area (a ring on the sphere, or the accounts nearest to it) — so combining parts is set
algebra on accounts and never loses precision (:mod:`geo.campaigns.queries` builds the tests).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geo.choices import match_choices
from geo.errors import CampaignError, GcrmError
from geo.places.shapes import circle, target_geometry, validate_polygons

OPERATIONS = ("union", "intersection", "difference")
COMPARISONS = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less, "=": np.equal}
"""How a market condition compares a county's fact with its value."""
_CONDITION = re.compile(
    r"^\s*(?P<fact>[A-Za-z][A-Za-z0-9_ ]*?)\s*(?P<op>>=|<=|>|<|=)\s*(?P<value>[-+]?[\d.,]+)\s*$"
)
REGION_KEYS = {"state": "state_fips", "county": "county_fips", "zip": "zip"}


@dataclass(frozen=True)
class Part:
    """One piece of a target.

    Attributes
    ----------
    kind
        ``circle``, ``polygon``, ``region``, ``territory`` or ``trade_area``.
    operation
        How it combines with the parts before it: ``union``, ``intersection``, ``difference``.
    lon, lat, radius_m
        For a circle (and ``radius_m`` for a ring trade area).
    wkt
        For a polygon: a validated (Multi)Polygon in WKT.
    level, codes
        For a region: ``state``/``county``/``zip`` and its keys; for a territory or a trade
        area: territory or branch ids.
    """

    kind: str
    operation: str = "union"
    lon: float | None = None
    lat: float | None = None
    radius_m: float | None = None
    wkt: str | None = None
    level: str | None = None
    codes: tuple[str, ...] = ()


def circle_part(lat: float, lon: float, radius_km: float, *, operation: str = "union") -> Part:
    """A circle of ``radius_km`` on the ground (validated).

    Parameters
    ----------
    lat, lon
        Centre in degrees.
    radius_km
        Radius in kilometres.
    operation
        How it combines with the parts before it.

    Returns
    -------
    Part
        The circle.
    """
    circle(lon, lat, radius_km * 1000)
    return Part("circle", _operation(operation), lon=float(lon), lat=float(lat), radius_m=radius_km * 1000)


def polygon_part(geometry: shapely.Geometry, *, operation: str = "union") -> Part:
    """A drawn or uploaded polygon (repaired or refused, see :mod:`geo.places.shapes`).

    Parameters
    ----------
    geometry
        Any shapely geometry in degrees.
    operation
        How it combines with the parts before it.

    Returns
    -------
    Part
        The polygon.
    """
    return Part("polygon", _operation(operation), wkt=validate_polygons(geometry).wkt)


def region_part(level: str, codes: list[str], *, operation: str = "union") -> Part:
    """States, counties or ZIPs by their keys.

    Parameters
    ----------
    level
        ``state``, ``county`` or ``zip``.
    codes
        FIPS codes or ZIPs.
    operation
        How it combines with the parts before it.

    Returns
    -------
    Part
        The regions.
    """
    if level not in REGION_KEYS:
        msg = f"Unknown region level {level!r}; choose state, county or zip."
        raise CampaignError(msg)
    width = {"state": 2, "county": 5, "zip": 5}[level]
    cleaned = tuple(sorted({c.strip().zfill(width) for c in codes if c.strip()}))
    if not cleaned or not all(c.isdigit() and len(c) == width for c in cleaned):
        msg = f"Region codes for {level} are {width}-digit numbers, got {', '.join(codes) or 'none'}."
        raise CampaignError(msg)
    return Part("region", _operation(operation), level=level, codes=cleaned)


def market_part(county_facts: pd.DataFrame, conditions: list[str], *, operation: str = "union") -> Part:
    """The counties whose market meets every condition (``median_household_income>=75000``, ``metro=1``).

    Parameters
    ----------
    county_facts
        One row per county code, one column per fact (:func:`geo.store.region_facts.read_facts`).
    conditions
        ``FACT OP VALUE`` with OP one of ``>= <= > < =``; facts match without regard to case.
        A county without a value for a fact meets no condition on it.
    operation
        How it combines with the parts before it.

    Returns
    -------
    Part
        A county part.

    Raises
    ------
    CampaignError
        For a condition that does not parse, an unknown fact (the message lists them), or
        conditions no county meets.
    """
    facts = {name.lower(): name for name in county_facts.columns}
    meets = np.ones(len(county_facts), dtype=bool)
    for condition in conditions:
        match = _CONDITION.match(condition)
        if match is None:
            msg = f"Cannot read the market condition {condition!r}; write FACT>=VALUE (or <=, >, <, =)."
            raise CampaignError(msg)
        fact = facts.get(match["fact"].strip().lower().replace(" ", "_"))
        if fact is None:
            msg = f"Unknown fact {match['fact'].strip()!r}; facts are: {', '.join(county_facts.columns)}."
            raise CampaignError(msg)
        value = float(match["value"].replace(",", ""))
        values = county_facts[fact].to_numpy(dtype=float)
        meets &= ~np.isnan(values) & COMPARISONS[match["op"]](np.nan_to_num(values), value)
    if not conditions or not meets.any():
        msg = f"No county meets {' and '.join(conditions) or 'no condition'}; loosen the conditions."
        raise CampaignError(msg)
    return region_part("county", list(county_facts.index[meets]), operation=operation)


def trade_area_part(
    branch_ids: list[int], *, radius_km: float | None = None, operation: str = "union"
) -> Part:
    """Branches' trade areas: a ring of ``radius_km`` around each, or (None) the accounts nearest to them.

    Parameters
    ----------
    branch_ids
        Branch ids.
    radius_km
        Ring radius on the ground; None for the nearest-branch (Voronoi) trade areas.
    operation
        How it combines with the parts before it.

    Returns
    -------
    Part
        The trade areas.
    """
    if not branch_ids:
        msg = "Pick at least one branch for a trade-area target."
        raise CampaignError(msg)
    if radius_km is not None and not 0 < radius_km <= 1000:
        msg = f"Ring radius {radius_km} km: use more than 0 and at most 1,000 km."
        raise CampaignError(msg)
    return Part(
        "trade_area",
        _operation(operation),
        radius_m=None if radius_km is None else radius_km * 1000,
        codes=tuple(str(int(b)) for b in branch_ids),
    )


def drive_time_part(areas: list[shapely.Geometry], *, operation: str = "union") -> Part:
    """Branches' drive-time areas (:func:`geo.roads.travel.drive_time_areas`) as one polygon.

    The areas are fixed when the target is made, so a saved campaign keeps its audience's
    shape when the road network is later replaced.

    Parameters
    ----------
    areas
        The areas in degrees, one per branch.
    operation
        How it combines with the parts before it.

    Returns
    -------
    Part
        The united areas as a polygon part.
    """
    shapes = [area for area in areas if area is not None and not area.is_empty]
    if not shapes:
        msg = "The drive-time areas are empty: pick a branch and a number of minutes."
        raise CampaignError(msg)
    return polygon_part(shapely.union_all(shapes), operation=operation)


def territory_part(territory_ids: list[int], *, operation: str = "union") -> Part:
    """Accounts of territories (as the active plan assigns them).

    Parameters
    ----------
    territory_ids
        Territory ids.
    operation
        How it combines with the parts before it.

    Returns
    -------
    Part
        The territories.
    """
    return Part("territory", _operation(operation), codes=tuple(str(int(t)) for t in territory_ids))


def drawn_parts(returned: dict | None) -> tuple[list[Part], list[str]]:
    """Turn what ``st_folium`` returns for a map with a draw control into target parts.

    Polygons and rectangles arrive as GeoJSON polygons; circles as a point whose
    ``properties.radius`` is in metres (streamlit-folium adds it), built here on the ground.
    Edited shapes arrive in their new form in ``all_drawings``.

    Parameters
    ----------
    returned
        The dict ``st_folium(..., returned_objects=["all_drawings"])`` gives back.

    Returns
    -------
    tuple
        Parts (all united), and a reason for each drawing that could not be used.
    """
    parts: list[Part] = []
    problems: list[str] = []
    for number, feature in enumerate((returned or {}).get("all_drawings") or [], start=1):
        geometry = (feature or {}).get("geometry") or {}
        radius = ((feature or {}).get("properties") or {}).get("radius")
        try:
            if geometry.get("type") == "Point" and radius is not None:
                lon, lat = geometry["coordinates"][:2]
                parts.append(circle_part(float(lat), float(lon), float(radius) / 1000))
            else:
                parts.append(polygon_part(target_geometry(geometry)))
        except GcrmError as exc:
            problems.append(f"Shape {number}: {exc}")
    return parts, problems


def typed_codes(text: str) -> list[str]:
    """Split comma-separated codes as typed (FIPS codes, ZIPs), blanks left out.

    Parameters
    ----------
    text
        As typed, e.g. ``"17031, 60614"``.

    Returns
    -------
    list of str
        The codes, stripped, in the order typed.
    """
    return [code.strip() for code in text.split(",") if code.strip()]


def county_or_zip(codes: list[str], counties: Collection[str]) -> dict[str, list[str]]:
    """Tell typed five-character codes apart: a county's FIPS code, or else a ZIP.

    Parameters
    ----------
    codes
        Codes as typed or picked; those not five characters long are left out.
    counties
        The county FIPS codes that exist.

    Returns
    -------
    dict
        ``county`` and ``zip`` → their codes, in the order given.
    """
    return {
        level: [code for code in codes if len(code) == 5 and (code in counties) == (level == "county")]
        for level in ("county", "zip")
    }


def picked_parts(
    *,
    states: list[str],
    codes: list[str],
    counties: Collection[str],
    territories: list[int],
    branches: list[int],
    ring_km: float,
    operation: str = "union",
) -> Iterator[Part]:
    """Make the parts picked from lists and typed codes: states, counties, ZIPs, territories, trade areas.

    The first part made combines with what came before it by ``operation``; the others are
    united with it. Parts come one at a time, so those made before a refused one (a typed
    ZIP that is no 5-digit number) can still be used.

    Parameters
    ----------
    states
        State FIPS codes.
    codes
        County FIPS codes and ZIPs, told apart by :func:`county_or_zip`.
    counties
        The county FIPS codes that exist.
    territories
        Territory ids.
    branches
        Branch ids whose trade areas are picked.
    ring_km
        Ring radius of the trade areas; 0 for the nearest-branch areas.
    operation
        How the first part combines with the parts before it.

    Yields
    ------
    Part
        Each part, in the order above; a refused one raises :class:`CampaignError`.
    """
    made = 0

    def next_operation() -> str:
        return operation if not made else "union"

    if states:
        yield region_part("state", states, operation=next_operation())
        made += 1
    for level, level_codes in county_or_zip(codes, counties).items():
        if level_codes:
            yield region_part(level, level_codes, operation=next_operation())
            made += 1
    if territories:
        yield territory_part(territories, operation=next_operation())
        made += 1
    if branches:
        yield trade_area_part(branches, radius_km=ring_km or None, operation=next_operation())


def circle_text_part(text: str) -> Part:
    """Read a circle typed as ``LAT,LON,KM`` (the ``--circle`` option of the campaign commands).

    Parameters
    ----------
    text
        E.g. ``"41.88,-87.63,25"``.

    Returns
    -------
    Part
        The circle.
    """
    try:
        lat, lon, km = (float(v) for v in text.split(","))
    except ValueError as exc:
        msg = f"--circle {text!r}: write LAT,LON,KM, e.g. 41.88,-87.63,25."
        raise CampaignError(msg) from exc
    return circle_part(lat, lon, km)


def regions_text_part(text: str, *, states: dict[str, str] | None = None) -> Part:
    """Read regions typed as ``LEVEL:CODE[,CODE…]`` (the ``--regions`` option of the campaign commands).

    Parameters
    ----------
    text
        E.g. ``"county:17031"`` or ``"state:IL,Wisconsin"``.
    states
        Spelling → FIPS code (:func:`geo.choices.state_spellings`), so ``state:`` takes postal
        codes and names too; None accepts FIPS codes only.

    Returns
    -------
    Part
        The regions.
    """
    level, sep, codes = text.partition(":")
    if not sep:
        msg = f"--regions {text!r}: write LEVEL:CODE[,CODE…], e.g. state:06,41."
        raise CampaignError(msg)
    codes_typed = typed_codes(codes)
    if level.strip() == "state" and states is not None:
        codes_typed = match_choices("state", codes_typed, states)
    return region_part(level.strip(), codes_typed)


def target_shape(parts: list[Part]) -> shapely.Geometry:
    """The drawn part of a target as one geometry, for maps (regions and territories not drawn).

    Parameters
    ----------
    parts
        The target.

    Returns
    -------
    shapely.Geometry
        Union, intersection and difference of the circles and polygons, in order.
    """
    shape: shapely.Geometry = shapely.Polygon()
    for part in parts:
        if part.kind == "circle":
            piece = circle(part.lon, part.lat, part.radius_m)
        elif part.kind == "polygon":
            piece = shapely.from_wkt(part.wkt)
        else:
            continue
        combine = {
            "union": shapely.union,
            "intersection": shapely.intersection,
            "difference": shapely.difference,
        }
        shape = (
            piece if shape.is_empty and part.operation == "union" else combine[part.operation](shape, piece)
        )
    return shape


def _operation(operation: str) -> str:
    if operation not in OPERATIONS:
        msg = f"Unknown operation {operation!r}; choose union, intersection or difference."
        raise CampaignError(msg)
    return operation
