"""Time moves: every figure measured from "today" stays meaningful as the calendar moves on.

A demo book is built as of a reference date a year behind, and one and three years
ahead of the pinned test date; each date-dependent figure (revenue of the last 12
months, no visit in N days, last order, growth, visits of the last year, open pipeline)
must hold some of the book and not all of it. A figure read from the database's own
clock, or a book ending on a fixed date, collapses to all or nothing at one of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pandas as pd
import pytest
from typer.testing import CliRunner

from gcrm import app
from geo import clock
from geo.campaigns.audience import audience
from geo.campaigns.filters import Filters
from geo.campaigns.target import region_part
from geo.config import Settings
from geo.field.accounts import headline_counts
from geo.field.nearby import nearest_accounts
from geo.ingest.whole_book import load_demo_book
from geo.store.bootstrap import Connections, prepare_database
from territories.model import load_book

USER = "t"
ACCOUNTS = 1_200
SEED = 7
CHICAGO = (-87.63, 41.88)


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@pytest.fixture(scope="module", params=[-1, 1, 3], ids=["a year behind", "a year ahead", "three years ahead"])
def book_template(
    request: pytest.FixtureRequest, pinned_today: date, database_copy
) -> Iterator[tuple[str, date]]:
    """A database holding a demo book made with the clock moved by some years (copied for each test)."""
    reference = _years_from(pinned_today, request.param)
    with database_copy() as (name, settings):
        connections = prepare_database(settings)
        with clock.pinned(reference):
            load_demo_book(connections.owner, settings.data_dir, accounts=ACCOUNTS, seed=SEED)
        connections.close()
        yield name, reference


@pytest.fixture
def book_as_of(book_template: tuple[str, date], database_copy) -> Iterator[tuple[Connections, date]]:
    """A copy of the demo book made with the clock moved by some years, and the clock left there."""
    template, reference = book_template
    with database_copy(template) as (_name, settings), clock.pinned(reference):
        connections = prepare_database(settings)
        try:
            yield connections, reference
        finally:
            connections.close()


def _all_states(connections: Connections) -> list[str]:
    with connections.owner.transaction(user=USER) as cur:
        cur.execute("SELECT code FROM regions WHERE level = 'state' ORDER BY code")
        return [row[0] for row in cur.fetchall()]


def _strictly_some(part: float, whole: float) -> bool:
    return 0 < part < whole


def test_the_demo_book_ends_the_day_before_today(book_as_of) -> None:
    connections, reference = book_as_of
    with connections.owner.transaction(user=USER) as cur:
        cur.execute("SELECT max(order_date) FROM orders WHERE stage = 'won'")
        last_order = cur.fetchone()[0]
        cur.execute("SELECT max(occurred_at)::date FROM interactions")
        last_touch = cur.fetchone()[0]
    yesterday = reference - timedelta(days=1)
    assert yesterday - timedelta(days=7) <= last_order <= yesterday
    assert yesterday - timedelta(days=7) <= last_touch <= yesterday


def test_revenue_of_the_last_12_months_is_part_of_the_book(book_as_of) -> None:
    connections, _reference = book_as_of
    with connections.owner.transaction(user=USER) as cur:
        cur.execute("SELECT sum(amount)::float FROM orders WHERE stage = 'won'")
        total = cur.fetchone()[0]
    counts = headline_counts(connections.app, user=USER)
    # Three years of orders: the last twelve months hold roughly a third, never none or all.
    assert 0.2 * total < counts["revenue_12m"] < 0.6 * total


@pytest.mark.parametrize("days", [30, 200])
def test_no_visit_in_n_days_keeps_some_accounts(book_as_of, days: int) -> None:
    connections, _reference = book_as_of
    filters = Filters(no_visit_days=days, min_precision="none")
    everywhere = [region_part("state", _all_states(connections))]
    counts, _members = audience(connections.app, everywhere, filters, user=USER)
    matched = counts.loc[counts["stage"] == "Matched the geography", "count"].iloc[0]
    kept = counts.loc[counts["stage"] == f"No visit in {days} days", "count"].iloc[0]
    assert _strictly_some(kept, matched)
    since = pd.Timestamp(clock.now()) - pd.Timedelta(days=days)
    everyone = nearest_accounts(connections.app, *CHICAGO, user=USER, k=200)
    visited = pd.to_datetime(everyone["last_visit"], utc=True) > since
    assert _strictly_some(int(visited.sum()), len(everyone))
    unvisited = nearest_accounts(connections.app, *CHICAGO, user=USER, k=200, not_visited_days=days)
    assert not (pd.to_datetime(unvisited["last_visit"], utc=True) > since).any()
    assert set(everyone.loc[~visited, "account_id"]) <= set(unvisited["account_id"])


def test_last_order_filters_split_the_customers(book_as_of) -> None:
    connections, reference = book_as_of
    states = [region_part("state", _all_states(connections))]
    since = reference - timedelta(days=60)
    recent = Filters(statuses=("customer",), last_order_after=since, min_precision="none")
    customers = Filters(statuses=("customer",), min_precision="none")
    recent_counts, _ = audience(connections.app, states, recent, user=USER)
    all_counts, _ = audience(connections.app, states, customers, user=USER)
    assert _strictly_some(recent_counts["count"].iloc[-1], all_counts["count"].iloc[-1])


def test_territory_figures_hold_revenue_growth_pipeline_and_visits(book_as_of) -> None:
    connections, _reference = book_as_of
    book = load_book(connections.app, "county", user=USER)
    customers = book["status"] == "customer"
    for column in ("revenue", "revenue_previous", "pipeline", "visits"):
        with_figure = int((book.loc[customers, column] > 0).sum())
        assert _strictly_some(with_figure, int(customers.sum())), column
    growth = book["revenue"].sum() / book["revenue_previous"].sum() - 1
    assert -0.5 < growth < 0.5


def test_nearby_value_is_the_last_12_months(book_as_of) -> None:
    connections, _reference = book_as_of
    found = nearest_accounts(connections.app, *CHICAGO, user=USER, k=200)
    assert _strictly_some(int((found["value"] > 0).sum()), len(found))


def test_a_logged_visit_is_stamped_by_the_clock(book_as_of) -> None:
    from geo.field.nearby import log_visit

    connections, reference = book_as_of
    found = nearest_accounts(connections.app, *CHICAGO, user=USER, k=1)
    log_visit(connections.app, found["external_id"].iloc[0], outcome="positive", notes="", user=USER)
    with connections.owner.transaction(user=USER) as cur:
        cur.execute("SELECT max(occurred_at) FROM interactions")
        assert cur.fetchone()[0] == clock.now()
    assert clock.today() == reference


def test_demo_takes_an_as_of_date(settings: Settings, environment) -> None:
    environment(settings)
    runner = CliRunner()
    result = runner.invoke(app, ["demo", "--accounts", "150", "--as-of", "2031-03-01"])
    assert result.exit_code == 0, result.output
    assert "as of 2031-03-01" in result.output
    conns = prepare_database(settings)
    with conns.owner.transaction(user=USER) as cur:
        cur.execute("SELECT min(order_date), max(order_date) FROM orders WHERE stage = 'won'")
        first, last = cur.fetchone()
    conns.close()
    assert last == date(2031, 2, 28) and first >= date(2028, 3, 1)
    refused = runner.invoke(app, ["demo", "--accounts", "150", "--replace", "--as-of", "March"])
    assert refused.exit_code != 0 and "--as-of" in refused.output
