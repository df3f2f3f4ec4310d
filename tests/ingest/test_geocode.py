"""The offline geocoding chain, case by case, against the shipped gazetteers."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.config import PROJECT_DIR
from geo.ingest.geocode import (
    Gazetteer,
    geocode_addresses,
    load_gazetteer,
    normalise_city,
    normalise_state,
    normalise_zip,
)


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
