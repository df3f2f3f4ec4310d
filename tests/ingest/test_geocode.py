"""The offline geocoding chain, case by case, against the shipped gazetteers."""

from __future__ import annotations

import difflib
import string

import numpy as np
import pandas as pd
import pytest

from geo.config import PROJECT_DIR
from geo.ingest.geocode import (
    FUZZY_CUTOFF,
    Gazetteer,
    closest_place_name,
    geocode_addresses,
    load_gazetteer,
    normalise_city,
    normalise_state,
    normalise_zip,
)
from geo.store.shipped_data import read_cities

MISSPELT_PLACES = 2_000
MISSPELT_SEED = 15


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer(PROJECT_DIR / "data")


def _one(gazetteer: Gazetteer, **fields: str) -> pd.Series:
    return geocode_addresses(pd.DataFrame([fields]), gazetteer).iloc[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("02134", "02134"),
        ("2134", "02134"),
        ("2134.0", "02134"),
        ("02134-1234", "02134"),
        ("021341234", "02134"),
        ("501", "00501"),
        ("ABC12", None),
        ("", None),
        ("1234-56", None),
    ],
)
def test_normalise_zip(raw: str, expected: str | None) -> None:
    got = normalise_zip(pd.Series([raw])).iloc[0]
    assert (None if pd.isna(got) else got) == expected


def test_normalise_state_and_city(gazetteer: Gazetteer) -> None:
    states = normalise_state(pd.Series(["Texas", "tx", "T.X.", "new  york", "Narnia", ""]), gazetteer)
    assert list(states.fillna("?")) == ["TX", "TX", "TX", "NY", "?", "?"]
    cities = normalise_city(pd.Series(["St. Louis", "Saint Louis", "FT. WORTH", "Mt Vernon"]))
    assert list(cities) == ["saint louis", "saint louis", "fort worth", "mount vernon"]


def test_given_coordinates_win(gazetteer: Gazetteer) -> None:
    row = _one(gazetteer, latitude="41.8781", longitude="-87.6298", postal_code="10001", state="IL")
    assert (row["precision"], row["source"]) == ("given", "input")
    assert (row["lon"], row["lat"]) == (-87.6298, 41.8781)


def test_swapped_coordinates_are_detected_against_the_state(gazetteer: Gazetteer) -> None:
    row = _one(gazetteer, latitude="-87.6298", longitude="41.8781", state="Illinois")
    assert row["precision"] == "given"
    assert (row["lon"], row["lat"]) == (-87.6298, 41.8781)
    assert "swapped" in row["note"]


def test_out_of_range_coordinates_fall_back_to_the_zip(gazetteer: Gazetteer) -> None:
    row = _one(gazetteer, latitude="123", longitude="456", postal_code="60601")
    assert row["precision"] == "postal"
    assert "out of range" in row["note"]


@pytest.mark.parametrize("zip_code", ["60601", "60601-1234", "606011234"])
def test_zip_centroid(gazetteer: Gazetteer, zip_code: str) -> None:
    row = _one(gazetteer, postal_code=zip_code, city="Wrong City", state="IL")
    assert (row["precision"], row["source"]) == ("postal", "zip-gazetteer")
    assert row["lat"] == pytest.approx(41.886, abs=0.01)


def test_leading_zero_restored(gazetteer: Gazetteer) -> None:
    row = _one(gazetteer, postal_code="2134")
    assert row["precision"] == "postal" and row["lat"] == pytest.approx(42.35, abs=0.01)


@pytest.mark.parametrize(
    ("city", "state"),
    [
        ("St. Louis", "MO"),
        ("Saint Louis", "Missouri"),
        ("ST LOUIS", "mo"),
        ("Ft Worth", "TX"),
        ("Fort Worth", "texas"),
    ],
)
def test_city_variants_match(gazetteer: Gazetteer, city: str, state: str) -> None:
    row = _one(gazetteer, city=city, state=state)
    assert (row["precision"], row["source"]) == ("city", "city-gazetteer")
    expected_lat = 38.63 if "Louis" in city or "LOUIS" in city else 32.73
    assert row["lat"] == pytest.approx(expected_lat, abs=0.05)


def test_misspelt_city_fuzzy_matched_and_noted(gazetteer: Gazetteer) -> None:
    row = _one(gazetteer, city="Sprngfield", state="IL")
    assert row["precision"] == "city"
    assert row["note"] == "city 'Sprngfield' matched to Springfield"
    assert row["lat"] == pytest.approx(39.80, abs=0.05)


def _misspelt(name: str, rng: np.random.Generator) -> str:
    """One or two typing slips: a letter dropped, added, replaced, or two swapped."""
    chars = list(name)
    for _slip in range(rng.integers(1, 3)):
        at = int(rng.integers(len(chars)))
        kind = rng.integers(4)
        if kind == 0 and len(chars) > 1:
            del chars[at]
        elif kind == 1:
            chars.insert(at, rng.choice(list(string.ascii_lowercase)))
        elif kind == 2:
            chars[at] = rng.choice(list(string.ascii_lowercase))
        elif len(chars) > 1:
            at = min(at, len(chars) - 2)
            chars[at], chars[at + 1] = chars[at + 1], chars[at]
    return "".join(chars)


def test_fuzzy_city_matches_are_difflibs_on_misspelt_shipped_places(gazetteer: Gazetteer) -> None:
    cities = read_cities(PROJECT_DIR / "data")
    rng = np.random.default_rng(MISSPELT_SEED)
    picked = cities.iloc[rng.choice(len(cities), size=MISSPELT_PLACES, replace=False)]
    typed = [_misspelt(name, rng) for name in normalise_city(picked["name"])]
    names_by_state: dict[str, list[str]] = {}
    for key in gazetteer.places.index:
        name, state = key.rsplit("|", 1)
        names_by_state.setdefault(state, []).append(name)
    expected = [
        (difflib.get_close_matches(city, names_by_state[state], n=1, cutoff=FUZZY_CUTOFF) or [None])[0]
        for city, state in zip(typed, picked["state"], strict=True)
    ]
    found = [
        closest_place_name(city, names_by_state[state])
        for city, state in zip(typed, picked["state"], strict=True)
    ]
    assert [
        (city, want, got) for city, want, got in zip(typed, expected, found, strict=True) if want != got
    ] == []
    assert 800 < sum(match is not None for match in expected) < MISSPELT_PLACES


@pytest.mark.parametrize(
    ("city", "state", "expected"),
    [
        ("riamond", "IL", "raymond"),  # ties diamond: difflib takes the greatest name
        ("clfiton", "NJ", "clinton"),  # ties clifton
        ("haanhan", "SC", None),  # rapidfuzz's ratio 0.86 for hanahan, difflib's 0.43
        ("windnerere", "FL", None),  # windermere: rapidfuzz 0.90, difflib 0.70
    ],
)
def test_fuzzy_city_matches_keep_difflibs_scores_and_ties(
    gazetteer: Gazetteer, city: str, state: str, expected: str | None
) -> None:
    in_state = gazetteer.places.index[gazetteer.places["state"].to_numpy() == state]
    assert closest_place_name(city, [key.rsplit("|", 1)[0] for key in in_state]) == expected


def test_unknown_city_falls_back_to_the_state(gazetteer: Gazetteer) -> None:
    row = _one(gazetteer, city="Xyzzyville", state="TX")
    assert (row["precision"], row["source"]) == ("region", "state-centroid")
    assert row["note"] == "city 'Xyzzyville' not found in TX"


def test_unplaceable_rows_are_kept_with_a_reason(gazetteer: Gazetteer) -> None:
    frame = pd.DataFrame(
        {"city": ["Paris", "", ""], "country": ["France", "", ""], "postal_code": ["", "99999", ""]}
    )
    result = geocode_addresses(frame, gazetteer)
    assert list(result["precision"]) == ["none", "none", "none"]
    assert result["lon"].isna().all()
    assert "France is outside the US gazetteer" in result.loc[0, "note"]
    assert result.loc[1, "note"] == "ZIP 99999 not found"
    assert result.loc[2, "note"] == "no coordinates, ZIP, city or state to place it"


def test_street_geocoder_is_tried_before_the_zip(gazetteer: Gazetteer) -> None:
    calls: list[pd.DataFrame] = []

    def street(rows: pd.DataFrame) -> pd.DataFrame:
        calls.append(rows)
        return pd.DataFrame({"lon": [-87.7], "lat": [41.9], "source": ["fake"]}, index=rows.index)

    frame = pd.DataFrame({"street": ["1 Main St", ""], "postal_code": ["60601", "60601"]})
    result = geocode_addresses(frame, gazetteer, street_geocoder=street)
    assert list(result["precision"]) == ["street", "postal"]
    assert result.loc[0, "source"] == "fake"
    assert len(calls) == 1 and list(calls[0].index) == [0]


def test_swapped_coordinates_without_a_state_are_detected(gazetteer: Gazetteer) -> None:
    row = _one(gazetteer, latitude="-87.63", longitude="41.88")
    assert (row["lon"], row["lat"]) == (-87.63, 41.88)
    assert row["note"] == "latitude and longitude were swapped; corrected"
