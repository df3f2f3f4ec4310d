"""The accounts of a region, listed where a drill-down ends (ZIP) or drawn over a county's ZIPs."""

from __future__ import annotations

import pytest

from geo.config import Settings
from geo.field.accounts import accounts_in_county, accounts_in_zip
from geo.store.bootstrap import Connections, prepare_database

USER = "t"
"""An admin in every test database."""


def _busiest_county(conns: Connections) -> tuple[str, int]:
    """The county with the most placed accounts (the lowest key among ties), and that count."""
    with conns.owner.transaction(user=USER) as cur:
        cur.execute(
            "SELECT county_fips, count(*) FROM accounts WHERE geom IS NOT NULL"
            " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
        )
        return cur.fetchone()


def test_a_countys_placed_accounts_come_by_name_with_their_zip_at_most_the_limit(
    demo_settings: Settings,
) -> None:
    conns = prepare_database(demo_settings)
    try:
        county, placed = _busiest_county(conns)
        with conns.owner.transaction(user=USER) as cur:
            # One account of the county taken off the map (the module's other test reads the
            # county's list through accounts_in_county, so this does not disturb it).
            cur.execute(
                "UPDATE accounts SET geom = NULL, geocode_precision = 'none' WHERE account_id ="
                " (SELECT min(account_id) FROM accounts WHERE county_fips = %s)",
                (county,),
            )
        every = accounts_in_county(conns.app, county, user=USER, limit=10_000)
        assert len(every) == placed - 1 and every[["lon", "lat"]].notna().all().all()
        assert list(every.itertuples(index=False, name=None)) == sorted(
            every.itertuples(index=False, name=None), key=lambda row: (row[1], row[0])
        )
        assert every["zip"].str.fullmatch(r"\d{5}").all()
        first = accounts_in_county(conns.app, county, user=USER, limit=3)
        assert list(first["external_id"]) == list(every["external_id"].head(3))
        zip_code = every["zip"].iloc[0]
        listed = accounts_in_zip(conns.app, zip_code, user=USER)
        assert "zip" not in listed and set(every.loc[every["zip"] == zip_code, "external_id"]) <= set(
            listed["external_id"]
        )
    finally:
        conns.close()


def test_a_countys_accounts_filtered_are_those_the_filters_keep_and_the_limit_counts_them(
    demo_settings: Settings,
) -> None:
    conns = prepare_database(demo_settings)
    try:
        county, _placed = _busiest_county(conns)
        every = accounts_in_county(conns.app, county, user=USER, limit=10_000)
        segment, status = every["segment"].mode()[0], every["status"].mode()[0]
        kept = every[(every["segment"] == segment) & (every["status"] == status)]
        assert 3 < len(kept) < len(every), "the filters keep all or nothing: the test shows nothing"
        where = {"segment": [segment], "status": [status]}
        filtered = accounts_in_county(conns.app, county, user=USER, limit=10_000, where=where)
        assert list(filtered["external_id"]) == list(kept["external_id"])
        first = accounts_in_county(conns.app, county, user=USER, limit=3, where=where)
        assert list(first["external_id"]) == list(kept["external_id"].head(3))
        with pytest.raises(ValueError, match="by zip; choose from segment, industry, status"):
            accounts_in_county(conns.app, county, user=USER, limit=3, where={"zip": ["60601"]})
    finally:
        conns.close()
