"""A plan and the labels of an alignment (0 … n-1 over the territories), turned into each other."""

from __future__ import annotations

import pandas as pd
import pytest

from territories.book_alignment import labelled_plan, lock_labels, plan_labels

IDS = [20, 10, 30]
"""Territory ids in label order: 20 is label 0, 10 is label 1, 30 is label 2."""


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        ({}, {}),
        ({"17031": 20, "17043": 10, "06075": 30}, {"17031": 0, "17043": 1, "06075": 2}),
        ({"17031": 10, "17043": 99}, {"17031": 1}),
    ],
)
def test_plan_labels_number_territories_in_the_order_of_their_ids(plan: dict, expected: dict) -> None:
    labels = plan_labels(pd.Series(plan, dtype="int64"), IDS)
    assert labels.to_dict() == expected
    assert labels.dtype == "int64"


@pytest.mark.parametrize(
    ("locked", "expected"),
    [
        (set(), {}),
        ({"17031"}, {"17031": 1}),
        ({"17031", "17043", "99999"}, {"17031": 1}),
        ({"06075", "17031"}, {"06075": 0, "17031": 1}),
    ],
)
def test_locked_units_keep_their_label(locked: set[str], expected: dict) -> None:
    plan = pd.Series({"17031": 10, "17043": 99, "06075": 20})
    assert lock_labels(plan, locked, IDS) == expected


def test_labels_turn_back_into_the_plan() -> None:
    codes = pd.Series(["17031", "17043", "06075"])
    labels = pd.Series([1, 0, 1])
    plan = labelled_plan(codes, labels, IDS)
    assert plan.to_dict() == {"17031": 10, "17043": 20, "06075": 10}
    assert plan.dtype == "int64"
    assert plan_labels(plan, IDS).equals(labels.set_axis(codes.to_numpy()))
    assert labelled_plan(codes, labels, pd.Index(IDS)).equals(plan)
