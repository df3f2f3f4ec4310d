"""Offline geocoding with an honest precision, vectorised over whole frames.

The chain, first match wins:

1. ``given``  — latitude/longitude from the file, validated (range, and
   swapped-coordinate detection against the stated state);
2. ``street`` — an optional self-hosted HTTP geocoder (see :mod:`geo.ingest.street_geocoder`),
   only for rows with a street address;
3. ``postal`` — the 5-digit ZIP centroid (ZIP+4 accepted, dropped leading zeros restored);
4. ``city``   — city + state, normalised ("St. Louis" = "Saint Louis", "Ft Worth"),
   then fuzzy-matched within the state (difflib's match, searched among rapidfuzz's shortlist);
5. ``region`` — the state's interior point;
6. ``none``   — unplaced, with the reason; the account is kept and flagged.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from geo.store.db import STORAGE_CRS
from geo.store.shipped_data import read_cities, read_states, read_zips

FUZZY_CUTOFF = 0.85
"""Minimum difflib similarity for a misspelt city to match a gazetteer place."""
SHORTLIST_SLACK = 1e-6
"""How far (in percent) rapidfuzz's shortlist cutoff sits below the cutoff, so rounding cannot drop a name."""
NULL_ISLAND_DEGREES = 1e-6
"""Latitude and longitude both closer to 0 than this (about 0.1 m) are a placeholder, not a place."""
ADDRESS_FIELDS = ("latitude", "longitude", "street", "city", "state", "postal_code", "country")
PRECISION_RANK = {
    "none": 0,
    "region": 1,
    "city": 2,
    "postal": 3,
    "street": 4,
    "rooftop": 5,
    "given": 6,
    "manual": 6,
}
"""Higher is better; used by filters such as 'minimum geocode precision'."""
_CITY_ABBREVIATIONS = {
    "st": "saint",
    "ste": "sainte",
    "ft": "fort",
    "mt": "mount",
    "pt": "point",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
}
_US_COUNTRY = {"", "us", "usa", "u s", "u s a", "united states", "united states of america", "america"}

StreetGeocoder = Callable[[pd.DataFrame], pd.DataFrame]
"""Takes rows with ``street, city, state, postal_code`` and returns ``lon, lat, source``
(NaN where not found), indexed like its input."""


@dataclass(frozen=True)
class Gazetteer:
    """The offline lookup tables, built once from the shipped data.

    Attributes
    ----------
    zips
        Indexed by 5-digit ZIP: ``lon, lat``.
    places
        Indexed by ``"normalised city|ST"``: ``lon, lat, name, state``.
    states
        Indexed by postal code: ``lon, lat`` (an interior point) and ``name``.
    state_codes
        Lower-case state name or postal code → postal code.
    state_polygons
        State polygons with ``abbrev``, for coordinate checks.
    """

    zips: pd.DataFrame
    places: pd.DataFrame
    states: pd.DataFrame
    state_codes: dict[str, str]
    state_polygons: gpd.GeoDataFrame


@lru_cache(maxsize=4)
def load_gazetteer(data_dir: Path) -> Gazetteer:
    """Build the lookup tables from the shipped ZIP, city and state files (cached per directory).

    Parameters
    ----------
    data_dir
        The shipped data directory.

    Returns
    -------
    Gazetteer
        Tables ready for :func:`geocode_addresses`.
    """
    return build_gazetteer(read_zips(data_dir), read_cities(data_dir), read_states(data_dir))


def build_gazetteer(zips: gpd.GeoDataFrame, cities: gpd.GeoDataFrame, states: gpd.GeoDataFrame) -> Gazetteer:
    """Build the lookup tables from gazetteer frames.

    Parameters
    ----------
    zips
        ``zip, place, state, geometry``.
    cities
        ``name, state, population, geometry``.
    states
        ``code, name, abbrev, geometry``.

    Returns
    -------
    Gazetteer
        The lookup tables.
    """
    zip_table = pd.DataFrame(
        {"lon": zips.geometry.x.to_numpy(), "lat": zips.geometry.y.to_numpy()}, index=zips["zip"].to_numpy()
    )
    from_cities = pd.DataFrame(
        {
            "key": normalise_city(cities["name"]) + "|" + cities["state"],
            "name": cities["name"],
            "state": cities["state"],
            "lon": cities.geometry.x,
            "lat": cities.geometry.y,
            "rank": cities["population"].astype(float),
        }
    )
    zip_places = pd.DataFrame(
        {
            "key": normalise_city(zips["place"]) + "|" + zips["state"],
            "name": zips["place"],
            "state": zips["state"],
            "lon": zips.geometry.x,
            "lat": zips.geometry.y,
        }
    )
    from_zips = zip_places.groupby("key").agg(
        name=("name", "first"), state=("state", "first"), lon=("lon", "mean"), lat=("lat", "mean")
    )
    from_zips = from_zips.reset_index().assign(rank=-1.0)
    places = pd.concat([from_cities, from_zips], ignore_index=True)
    places = places[places["state"] != ""].sort_values("rank", ascending=False)
    places = places.drop_duplicates("key").set_index("key")[["lon", "lat", "name", "state"]]
    interior = states.geometry.representative_point()
    state_table = pd.DataFrame(
        {"lon": interior.x.to_numpy(), "lat": interior.y.to_numpy(), "name": states["name"].to_numpy()},
        index=states["abbrev"].to_numpy(),
    )
    codes = {name.lower(): abbrev for name, abbrev in zip(states["name"], states["abbrev"], strict=True)}
    codes.update({abbrev.lower(): abbrev for abbrev in states["abbrev"]})
    codes.update({"washington dc": "DC", "d c": "DC", "dc": "DC"})
    polygons = gpd.GeoDataFrame({"abbrev": states["abbrev"]}, geometry=states.geometry, crs=STORAGE_CRS)
    return Gazetteer(zip_table, places, state_table, codes, polygons)


def normalise_zip(values: pd.Series) -> pd.Series:
    """Reduce postal codes to 5-digit ZIPs: ZIP+4 cut, dropped leading zeros restored.

    Parameters
    ----------
    values
        Raw postal codes as text ("02134", "2134", "2134.0", "02134-1234", "021341234").

    Returns
    -------
    Series
        5-digit ZIPs, or NA where the value is not a US ZIP.
    """
    text = _arrow_text(values).str.strip().str.replace(r"\.0$", "", regex=True)
    digits = text.str.replace(r"[-\s]", "", regex=True)
    valid = text.str.fullmatch(r"\d{3,5}|\d{5}[-\s]?\d{4}|\d{9}")
    five = digits.str.slice(0, 5).where(digits.str.len() == 9, digits.str.zfill(5))
    return five.where(valid, pd.NA).astype(object)


def normalise_state(values: pd.Series, gazetteer: Gazetteer) -> pd.Series:
    """Turn state names or postal codes into postal codes.

    Parameters
    ----------
    values
        "Texas", "tx", "TX.", "New  York" …
    gazetteer
        The lookup tables.

    Returns
    -------
    Series
        Postal codes, NA where unknown or empty.
    """
    key = _arrow_text(values).str.lower().str.replace(r"[^a-z]+", " ", regex=True).str.strip()
    squeezed = key.str.replace(" ", "", regex=False)
    codes = key.map(gazetteer.state_codes).astype(object)
    return codes.where(codes.notna(), squeezed.where(squeezed.str.len() == 2).map(gazetteer.state_codes))


def normalise_city(values: pd.Series) -> pd.Series:
    """Normalise city names for matching: case, punctuation, common abbreviations.

    Parameters
    ----------
    values
        City names as typed.

    Returns
    -------
    Series
        Lower-case words separated by single spaces, abbreviations expanded.
    """
    words = _arrow_text(values).str.lower().str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()
    for short, full in _CITY_ABBREVIATIONS.items():
        words = words.str.replace(rf"\b{short}\b", full, regex=True)
    return words


def closest_place_name(city: str, candidates: list[str]) -> str | None:
    """Find difflib's closest name at or above :data:`FUZZY_CUTOFF`, searching rapidfuzz's shortlist.

    rapidfuzz's ``fuzz.ratio`` (twice the longest common subsequence over the total length)
    is never below difflib's ratio (twice the matched characters, a common subsequence, over
    the same total), so a name rapidfuzz scores below the cutoff cannot match in difflib
    either. difflib then ranks the few names left with its own ratio and tie-break (the
    greatest name among equals): the match is exactly ``difflib.get_close_matches``', found
    about ten times faster (``benchmarks/fuzzy_cities.py``).

    Parameters
    ----------
    city
        A normalised city name (:func:`normalise_city`).
    candidates
        Normalised names of the places it may be (one state's).

    Returns
    -------
    str or None
        The closest candidate, None when none is similar enough.
    """
    shortlist = process.extract(
        city, candidates, scorer=fuzz.ratio, score_cutoff=100 * FUZZY_CUTOFF - SHORTLIST_SLACK, limit=None
    )
    match = difflib.get_close_matches(
        city, [name for name, _score, _index in shortlist], n=1, cutoff=FUZZY_CUTOFF
    )
    return match[0] if match else None


def parse_degrees(values: pd.Series) -> pd.Series:
    """Read coordinates typed as text, a decimal comma allowed.

    Parameters
    ----------
    values
        Text cells.

    Returns
    -------
    Series
        Floats, NaN where the text is not a number.
    """
    text = _arrow_text(values).str.strip().str.replace(",", ".", regex=False)
    parsed = pd.to_numeric(text, errors="coerce")
    return pd.Series(parsed.to_numpy(dtype=float, na_value=np.nan), index=values.index)


def at_null_island(lat: pd.Series, lon: pd.Series) -> pd.Series:
    """Tell which coordinates are (0, 0) or within :data:`NULL_ISLAND_DEGREES` of it (denormals too).

    Exports write these where a location is missing; they are never a real account.

    Parameters
    ----------
    lat, lon
        Degrees.

    Returns
    -------
    Series of bool
        True where both are within the tolerance of 0.
    """
    return lat.abs().lt(NULL_ISLAND_DEGREES) & lon.abs().lt(NULL_ISLAND_DEGREES)


def geocode_addresses(
    addresses: pd.DataFrame, gazetteer: Gazetteer, *, street_geocoder: StreetGeocoder | None = None
) -> pd.DataFrame:
    """Place each address with the best precision the chain reaches.

    Parameters
    ----------
    addresses
        Text columns among ``latitude, longitude, street, city, state,
        postal_code, country``; missing columns count as empty.
    gazetteer
        The offline lookup tables.
    street_geocoder
        Optional street-level geocoder tried before the ZIP centroid.

    Returns
    -------
    DataFrame
        Indexed like ``addresses``: ``lon, lat, precision, source, note``.
    """
    fields = pd.DataFrame({f: _text(addresses, f) for f in ADDRESS_FIELDS}, index=addresses.index)
    state = normalise_state(fields["state"], gazetteer)
    result = pd.DataFrame(
        {"lon": np.nan, "lat": np.nan, "precision": "none", "source": None, "note": None},
        index=addresses.index,
    )
    notes = pd.Series("", index=addresses.index, dtype="string[pyarrow]")
    _given(fields, state, gazetteer, result, notes)
    if street_geocoder is not None:
        _street(fields, state, street_geocoder, result)
    zips = normalise_zip(fields["postal_code"])
    _lookup(result, zips, gazetteer.zips, "postal", "zip-gazetteer")
    bad_zip = result["precision"].eq("none") & fields["postal_code"].ne("")
    notes[bad_zip] += "ZIP " + fields.loc[bad_zip, "postal_code"] + " not found; "
    _cities(fields, state, gazetteer, result, notes)
    _lookup(result, state, gazetteer.states, "region", "state-centroid")
    foreign = ~fields["country"].str.lower().str.replace(r"[^a-z]+", " ", regex=True).str.strip().isin(
        _US_COUNTRY
    )
    unplaced = result["precision"].eq("none")
    notes[unplaced & foreign] += (
        "country " + fields.loc[unplaced & foreign, "country"] + " is outside the US gazetteer; "
    )
    notes[unplaced & state.isna() & fields["state"].ne("")] += "state " + fields["state"] + " unknown; "
    notes[unplaced & notes.eq("")] = "no coordinates, ZIP, city or state to place it; "
    text = notes.str.rstrip("; ")
    result["note"] = text.where(text.ne(""), None)
    return result


def _arrow_text(values: pd.Series) -> pd.Series:
    return values.astype("string[pyarrow]").fillna("")


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series("", index=frame.index, dtype="string[pyarrow]")
    return _arrow_text(frame[column]).str.strip()


def _lookup(result: pd.DataFrame, keys: pd.Series, table: pd.DataFrame, precision: str, source: str) -> None:
    open_rows = result["precision"].eq("none") & keys.notna()
    found = table.reindex(keys[open_rows].to_numpy())
    hit = found["lon"].notna().to_numpy()
    rows = result.index[open_rows][hit]
    result.loc[rows, "lon"] = found["lon"].to_numpy()[hit]
    result.loc[rows, "lat"] = found["lat"].to_numpy()[hit]
    result.loc[rows, "precision"] = precision
    result.loc[rows, "source"] = source


def _given(
    fields: pd.DataFrame, state: pd.Series, gazetteer: Gazetteer, result: pd.DataFrame, notes: pd.Series
) -> None:
    typed = fields["latitude"].ne("") | fields["longitude"].ne("")
    lat = parse_degrees(fields["latitude"])
    lon = parse_degrees(fields["longitude"])
    numeric = lat.notna() & lon.notna() & ~at_null_island(lat, lon)
    notes[typed & ~numeric] += (
        "coordinates '" + fields["latitude"] + "', '" + fields["longitude"] + "' unusable; "
    )
    in_range = numeric & lat.between(-90, 90) & lon.between(-180, 180)
    swapped_range = numeric & lon.between(-90, 90) & lat.between(-180, 180)
    state_here = _state_of(lon.where(in_range), lat.where(in_range), gazetteer)
    state_swapped = _state_of(lat.where(swapped_range), lon.where(swapped_range), gazetteer)
    state = state.fillna("")
    stated = state.ne("")
    swap = (
        swapped_range
        & state_swapped.ne("")
        & ((stated & state_swapped.eq(state) & state_here.ne(state)) | (~stated & state_here.eq("")))
    )
    swap &= ~(stated & state_here.eq(state))
    notes[numeric & ~in_range & ~swap] += "coordinates out of range; "
    use = (in_range | swap) & numeric
    result.loc[use, "lon"] = lon.where(~swap, lat)[use]
    result.loc[use, "lat"] = lat.where(~swap, lon)[use]
    result.loc[use, "precision"] = "given"
    result.loc[use, "source"] = "input"
    notes[swap] += "latitude and longitude were swapped; corrected; "
    outside = use & ~swap & stated & state_here.ne(state)
    notes[outside] += "coordinates lie outside the stated state " + state[outside] + "; "


def _state_of(lon: pd.Series, lat: pd.Series, gazetteer: Gazetteer) -> pd.Series:
    present = lon.notna() & lat.notna()
    out = pd.Series("", index=lon.index, dtype=object)
    if not present.any():
        return out
    points = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(lon[present], lat[present]), index=lon.index[present], crs=STORAGE_CRS
    )
    joined = gpd.sjoin(points, gazetteer.state_polygons, predicate="within", how="inner")
    joined = joined[~joined.index.duplicated(keep="first")]
    out.loc[joined.index] = joined["abbrev"]
    return out


def _street(
    fields: pd.DataFrame, state: pd.Series, street_geocoder: StreetGeocoder, result: pd.DataFrame
) -> None:
    open_rows = result["precision"].eq("none") & fields["street"].ne("")
    if not open_rows.any():
        return
    query = fields.loc[open_rows, ["street", "city", "postal_code"]].assign(state=state[open_rows].fillna(""))
    found = street_geocoder(query)
    hit = found["lon"].notna() & found["lat"].notna()
    rows = found.index[hit]
    result.loc[rows, ["lon", "lat"]] = found.loc[rows, ["lon", "lat"]].to_numpy()
    result.loc[rows, "precision"] = "street"
    result.loc[rows, "source"] = found.loc[rows, "source"]


def _cities(
    fields: pd.DataFrame, state: pd.Series, gazetteer: Gazetteer, result: pd.DataFrame, notes: pd.Series
) -> None:
    open_rows = result["precision"].eq("none") & fields["city"].ne("") & state.notna()
    typed = normalise_city(fields.loc[open_rows, "city"]) + "|" + state[open_rows]
    known = typed.isin(gazetteer.places.index)
    names_by_state: dict[str, list[str]] = {}
    corrections = {key: _fuzzy_place(key, gazetteer, names_by_state) for key in typed[~known].unique()}
    keys = typed.where(known, typed.map(corrections))
    _lookup(result, keys.reindex(result.index), gazetteer.places, "city", "city-gazetteer")
    fuzzy = typed.index[~known & keys.notna()]
    matched_names = gazetteer.places["name"].reindex(keys[fuzzy].to_numpy()).to_numpy()
    notes[fuzzy] += "city '" + fields.loc[fuzzy, "city"] + "' matched to " + matched_names + "; "
    unmatched = open_rows & result["precision"].eq("none")
    notes[unmatched] += (
        "city '" + fields.loc[unmatched, "city"] + "' not found in " + state[unmatched].astype(str) + "; "
    )


def _fuzzy_place(key: str, gazetteer: Gazetteer, names_by_state: dict[str, list[str]]) -> str | None:
    city, state = key.rsplit("|", 1)
    if state not in names_by_state:
        in_state = gazetteer.places.index[gazetteer.places["state"].to_numpy() == state]
        names_by_state[state] = [k.rsplit("|", 1)[0] for k in in_state]
    candidates = names_by_state[state]
    match = closest_place_name(city, candidates)
    if match is None:
        squeezed = city.replace(" ", "")
        match = next((name for name in candidates if name.replace(" ", "") == squeezed), None)
    return None if match is None else f"{match}|{state}"
