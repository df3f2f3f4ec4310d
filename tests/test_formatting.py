"""The formatting module as a table of cases: money, counts, shares, moments, labels, legends, order."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from geo.formatting import (
    MISSING,
    column_label,
    count,
    duration,
    figure,
    legend_ranges,
    moment,
    money,
    number,
    numeric_order,
    share,
    text_table,
)


@pytest.mark.parametrize(
    ("value", "currency", "cents", "expected"),
    [
        (2984358.67, "USD", False, "$2,984,359"),
        (2984358.67, "USD", True, "$2,984,358.67"),
        (-16.0679, "USD", False, "-$16"),
        (-0.2, "USD", False, "$0"),
        (0, "EUR", False, "€0"),
        (1234.5, "chf", False, "CHF 1,234"),
        (1234.5, "GBP", True, "£1,234.50"),
        (None, "USD", False, MISSING),
        (float("nan"), "USD", False, MISSING),
        (np.float64(1e6), "USD", False, "$1,000,000"),
    ],
)
def test_money(value: object, currency: str, cents: bool, expected: str) -> None:
    assert money(value, currency, cents=cents) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12408, "12,408"), (10.2, "10"), (np.int64(3), "3"), (0, "0"), (None, MISSING), (pd.NA, MISSING)],
)
def test_count(value: object, expected: str) -> None:
    assert count(value) == expected


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [(0.1234, 1, "12.3%"), (1, 0, "100%"), (-0.05, 1, "-5.0%"), (12.5, 0, "1,250%"), (None, 1, MISSING)],
)
def test_share(value: object, digits: int, expected: str) -> None:
    assert share(value, digits=digits) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3.0, "3"), (0.0612, "0.061"), (351741.7, "351,741.7"), (float("nan"), MISSING), (None, MISSING)],
)
def test_number(value: object, expected: str) -> None:
    assert number(value) == expected


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (7.4, "7 min"),
        (0.2, "0 min"),
        (60, "1 h 0 min"),
        (95.2, "1 h 35 min"),
        (1510, "25 h 10 min"),
        (None, MISSING),
    ],
)
def test_durations_are_whole_minutes_with_hours(minutes: object, expected: str) -> None:
    assert duration(minutes) == expected


@pytest.mark.parametrize(
    ("value", "zone", "expected"),
    [
        (datetime(2026, 12, 3, 14, 5, tzinfo=UTC), "America/Chicago", "2026-12-03 08:05"),
        (datetime(2026, 12, 3, 14, 5), "America/Los_Angeles", "2026-12-03 06:05"),
        (pd.Timestamp("2026-07-01T23:30Z"), "America/New_York", "2026-07-01 19:30"),
        (date(2026, 12, 3), "Asia/Tokyo", "2026-12-03"),
        (None, "UTC", MISSING),
        (pd.NaT, "UTC", MISSING),
    ],
)
def test_moment(value: object, zone: str, expected: str) -> None:
    assert moment(value, zone) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("annual_revenue", "Annual revenue"),
        ("external_id", "External ID"),
        ("zip", "ZIP"),
        ("county_fips", "County FIPS"),
        ("h3_r5", "H3 (resolution 5)"),
        ("revenue_12m", "Revenue 12 months"),
        ("Name", "Name"),
        ("", ""),
    ],
)
def test_column_label(name: str, expected: str) -> None:
    assert column_label(name) == expected


@pytest.mark.parametrize(
    ("bins", "lowest", "whole", "text", "expected"),
    [
        ([10.2, 19.6, 40], 2, True, count, ["2 – 10", "11 – 19", "20 – 40"]),
        ([0, 351741.7, 900000], 0, True, money, ["$0", "$1 – $351,741", "$351,742 – $900,000"]),
        ([1, 2, 3], 1, True, count, ["1", "2", "3"]),
        ([0, 0.06, 1.6], 0, False, number, ["0", "over 0 – 0.06", "0.06 – 1.6"]),
        ([0.5, 1.2], 0.1, False, number, ["0.1 – 0.5", "0.5 – 1.2"]),
    ],
)
def test_legend_ranges(bins: list[float], lowest: float, whole: bool, text, expected: list[str]) -> None:
    assert legend_ranges(bins, lowest, whole=whole, text=text) == expected


def test_whole_legend_ranges_are_integral_and_never_overlap() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        bins = np.unique(np.floor(rng.uniform(1, 1000, size=rng.integers(2, 8))))
        lowest = float(rng.integers(0, bins[0] + 1))
        labels = legend_ranges(bins, lowest, whole=True, text=count)
        bounds = [[int(part.replace(",", "")) for part in label.split(" – ")] for label in labels]
        flat = [value for pair in bounds for value in (pair if len(pair) == 2 else pair * 2)]
        assert flat == sorted(flat)
        assert all(later > earlier for earlier, later in zip(flat[1::2], flat[2::2], strict=False))


def test_a_whole_class_without_a_whole_number_is_refused() -> None:
    with pytest.raises(ValueError, match="holds no whole number"):
        legend_ranges([10.2, 10.8], 2, whole=True, text=count)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["10", "2", "1"], ["1", "2", "10"]),
        ([10, 2, 1.5], [1.5, 2, 10]),
        (["17031", "6037", "-3"], ["-3", "6037", "17031"]),
        (["b", "10", "a"], ["10", "a", "b"]),
        ([], []),
    ],
)
def test_numeric_order(keys: list, expected: list) -> None:
    assert numeric_order(keys) == expected


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (2984359.4, "money", "$2,984,359"),
        (12408.0, "count", "12,408"),
        (0.1234, "share", "12.3%"),
        (12.34, "percent", "12.3%"),
        (95, "minutes", "1 h 35 min"),
        (1.25, "rate", "1.2"),
        (3.5, "unknown kind", "3.5"),
        (float("nan"), "money", MISSING),
        (None, "count", MISSING),
        (pd.NA, "percent", MISSING),
    ],
)
def test_figure_is_written_by_its_kind(value: object, kind: str, expected: str) -> None:
    assert figure(value, kind) == expected


def test_text_table_heads_with_words_and_aligns_formatted_figures() -> None:
    frame = pd.DataFrame(
        {
            "name": ["Acme\x1b[31m", None],
            "annual_revenue": [2984359.4, np.nan],
            "accounts": [12408, 3],
            "created_at": [datetime(2026, 12, 3, 15, 5, tzinfo=UTC), None],
        }
    )
    table = text_table(frame, kinds={"annual_revenue": "money", "accounts": "count"}, zone="America/Chicago")
    assert table.splitlines() == [
        "Name       Annual revenue  Accounts  Created at",
        "---------  --------------  --------  ----------------",
        "Acme [31m      $2,984,359    12,408  2026-12-03 09:05",
        f"{MISSING}                       {MISSING}         3  {MISSING}",
    ]


def test_text_table_of_no_rows_is_its_header() -> None:
    table = text_table(pd.DataFrame({"key": []}), labels={"key": "State"})
    assert table == "State\n-----\n"
