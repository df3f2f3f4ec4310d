"""The demo book: deterministic for a seed, realistic in shape, stored with region keys."""

from __future__ import annotations

from datetime import date, timedelta

import geopandas as gpd
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from pandas.testing import assert_frame_equal

from geo.config import PROJECT_DIR, Settings
from geo.ingest.demo import book_period, generate_demo, rep_count
from geo.store.bootstrap import prepare_database
from geo.store.shipped_data import read_cities, read_zips

DATA_DIR = PROJECT_DIR / "data"
AS_OF = date(2027, 3, 1)


@pytest.fixture(scope="module")
def gazetteers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    return read_zips(DATA_DIR), read_cities(DATA_DIR)


def test_same_seed_same_book_other_seed_other_book(gazetteers) -> None:
    zips, cities = gazetteers
    first = generate_demo(zips, cities, accounts=500, seed=3, as_of=AS_OF)
    second = generate_demo(zips, cities, accounts=500, seed=3, as_of=AS_OF)
    other = generate_demo(zips, cities, accounts=500, seed=4, as_of=AS_OF)
    assert_geodataframe_equal(first.accounts, second.accounts, check_crs=True)
    for table in ("reps", "contacts", "orders", "interactions"):
        assert_frame_equal(getattr(first, table), getattr(second, table))
    assert not first.accounts["name"].equals(other.accounts["name"])


def test_book_shape(gazetteers) -> None:
    zips, cities = gazetteers
    book = generate_demo(zips, cities, accounts=5_000, seed=1, as_of=AS_OF)
    accounts = book.accounts
    assert len(accounts) == 5_000 and accounts["external_id"].is_unique
    assert 10 <= len(book.reps) <= 20 and book.reps["name"].is_unique
    assert book.reps["home"].notna().all()
    assert 24 <= len(book.branches) <= 48
    assert set(accounts["status"]) == {"prospect", "customer", "churned"}
    assert 0.75 < accounts["marketing_consent"].mean() < 0.95
    assert set(accounts["owner_rep_id"]) == set(book.reps["rep_id"])
    assert accounts["zip"].isin(zips["zip"]).all()
    assert accounts.geometry.y.between(18, 72).all()
    # Population weighting: the biggest metro states carry the most accounts.
    assert set(accounts["state"].value_counts().index[:3]) & {"CA", "TX", "NY", "FL"}
    orders = book.orders
    assert orders["account_id"].isin(accounts["account_id"]).all()
    status_of = accounts.set_index("account_id")["status"]
    assert set(status_of.loc[orders["account_id"]]) == {"customer", "churned"}
    first_day, last_day = book_period(AS_OF)
    won = orders[orders["stage"] == "won"]
    assert won["order_date"].min() >= first_day and won["order_date"].max() == last_day
    pipeline = orders[orders["stage"] == "open"]
    assert set(status_of.loc[pipeline["account_id"]]) == {"customer"}
    assert pipeline["order_date"].between(AS_OF - timedelta(days=90), last_day).all()
    assert orders["order_id"].is_unique and orders["external_id"].is_unique
    assert (orders["amount"] > 0).all()
    visits = book.interactions[book.interactions["kind"] == "visit"]
    assert visits["checkin"].notna().all()
    end = pd.Timestamp(AS_OF, tz="UTC")
    occurred = book.interactions["occurred_at"]
    assert occurred.max() < end and occurred.min() >= end - pd.DateOffset(years=1)
    assert occurred.max() >= end - pd.Timedelta(days=2)
    assert book.contacts["account_id"].isin(accounts["account_id"]).all()


@pytest.mark.parametrize(("accounts", "reps"), [(1, 10), (20_000, 14), (1_000_000, 20)])
def test_rep_count_grows_from_10_to_20(accounts: int, reps: int) -> None:
    assert rep_count(accounts) == reps


def test_stored_book_has_region_keys_and_counts(demo_settings: Settings) -> None:
    conns = prepare_database(demo_settings)
    with conns.app.transaction(user="t") as cur:
        cur.execute(
            "SELECT count(*), count(geom), count(county_fips), count(h3_r9),"
            " count(*) FILTER (WHERE left(county_fips, 2) <> state_fips) FROM accounts"
        )
        total, placed, with_county, with_h3, inconsistent = cur.fetchone()
        cur.execute(
            "SELECT count(*) FROM accounts a JOIN regions c"
            " ON c.level = 'county' AND c.code = a.county_fips"
            " WHERE ST_Intersects(c.geom, a.geom)"
        )
        inside = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*) FROM orders o JOIN accounts a USING (account_id) WHERE a.status = 'prospect'"
        )
        prospect_orders = cur.fetchone()[0]
        cur.execute("SELECT nextval(pg_get_serial_sequence('accounts', 'account_id'))")
        next_id = cur.fetchone()[0]
    conns.close()
    assert total == placed == with_county == with_h3 == 3_000
    assert inconsistent == 0
    assert inside >= 0.99 * total
    assert prospect_orders == 0
    assert next_id == 3_001


def test_book_rejects_empty_size(gazetteers) -> None:
    zips, cities = gazetteers
    with pytest.raises(ValueError, match="at least one account"):
        generate_demo(zips, cities, accounts=0, seed=1, as_of=AS_OF)
