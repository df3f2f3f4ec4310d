"""How page tables read: headers and figures turned on their side, as tables of cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.formatting import MISSING
from pages._shared.tables import figure_rows, header, number_columns


@pytest.mark.parametrize(
    ("column", "labels", "expected"),
    [
        ("annual_revenue", None, "Annual revenue"),
        ("campaign_id", None, "Campaign ID"),
        ("created_at", None, "Created at"),
        ("members", {"members": "Audience"}, "Audience"),
        ("Revenue, last 12 months", None, "Revenue, last 12 months"),
        ("New York", None, "New York"),
        (3, None, "3"),
    ],
)
def test_header(column: object, labels: dict | None, expected: str) -> None:
    assert header(column, labels) == expected


def test_figure_rows_write_each_figure_by_its_kind_and_a_dash_for_none() -> None:
    areas = pd.DataFrame({"population": [12_408.0, 0.0], "income": [41_250.4, np.nan]})
    rows = figure_rows(
        areas,
        {"population": "Population", "income": "Income per person"},
        {"population": "count", "income": "money"},
    )
    assert rows.to_dict("index") == {
        "Population": {0: "12,408", 1: "0"},
        "Income per person": {0: "$41,250", 1: MISSING},
    }


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("count", "localized"),
        ("money", "dollar"),
        ("percent", "%.1f%%"),
        ("tenths", "%.1f"),
        ("other", "localized"),
    ],
)
def test_number_columns_format_each_kind(kind: str, expected: str) -> None:
    """Regression: Nearby's km column read "801.5", "859.33", "871": distances now have one decimal."""
    assert number_columns({"km": kind})["km"]["type_config"]["format"] == expected
