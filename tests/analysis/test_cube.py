"""Headline counts of the book, against the cube and plain counts."""

from __future__ import annotations

from geo.analysis.cube import base_figures
from geo.config import Settings
from geo.field.accounts import headline_counts, load_facts
from geo.store.bootstrap import prepare_database


def test_headline_counts_agree_with_the_cube(demo_settings: Settings) -> None:
    conns = prepare_database(demo_settings)
    headline = headline_counts(conns.app, user="t")
    by_status = base_figures(load_facts(conns.app, user="t"), by="status")
    conns.close()
    assert headline["accounts"] == by_status["accounts"].sum() == 3_000
    assert headline["customers"] == by_status.loc["customer", "accounts"]
    assert headline["prospects"] == by_status.loc["prospect", "accounts"]
    assert headline["churned"] == by_status.loc["churned", "accounts"]
    assert headline["revenue_12m"] > 0 and 10 <= headline["reps"] <= 20 and headline["branches"] == 36
    assert headline["unplaced"] == 0
