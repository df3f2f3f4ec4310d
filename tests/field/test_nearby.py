"""Nearest accounts against PostGIS equal a brute-force haversine ranking; visits land in the history."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from geo.config import Settings
from geo.errors import NearbyError
from geo.field.accounts import find_accounts
from geo.field.nearby import account_history, log_visit, nearest_accounts, position_from_text
from geo.ingest.geocode import load_gazetteer
from geo.places.geodesy import haversine_m
from geo.store.bootstrap import Connections, prepare_database

USER = "rep@test"


@pytest.fixture(scope="module")
def conns(demo_settings: Settings) -> Iterator[Connections]:
    connections = prepare_database(demo_settings)
    yield connections
    connections.close()


@pytest.fixture(scope="module")
def book(conns) -> pd.DataFrame:
    with conns.owner.transaction(user=USER) as cur:
        cur.execute("SELECT account_id, ST_X(geom), ST_Y(geom), status FROM accounts WHERE geom IS NOT NULL")
        return pd.DataFrame(cur.fetchall(), columns=["account_id", "lon", "lat", "status"])


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(41.88, -87.63), (34.05, -118.24), (46.0, -100.0), (61.2, -149.9), (25.0, -125.0), (70.0, -60.0)],
)
def test_nearest_equal_a_brute_force_haversine_ranking(conns, book, lat: float, lon: float) -> None:
    found = nearest_accounts(conns.app, lon, lat, k=25, user=USER)
    distances = haversine_m(book["lon"], book["lat"], lon, lat)
    expected = book.assign(d=distances).sort_values(["d", "account_id"]).head(25)
    assert found["account_id"].tolist() == expected["account_id"].tolist()
    np.testing.assert_allclose(found["distance_m"], expected["d"], rtol=1e-6)
    assert found["distance_m"].is_monotonic_increasing


def test_radius_and_status_filters_keep_the_nearest_that_pass(conns, book) -> None:
    lat, lon = 41.88, -87.63
    found = nearest_accounts(conns.app, lon, lat, k=500, radius_m=30_000, statuses=("customer",), user=USER)
    distances = haversine_m(book["lon"], book["lat"], lon, lat)
    expected = book[(distances <= 30_000) & (book["status"] == "customer")]
    assert set(found["account_id"]) == set(expected["account_id"]) and len(found) > 0


def test_a_logged_visit_shows_in_the_history_and_the_last_visit_at_once(conns, book) -> None:
    lat, lon = 41.88, -87.63
    first = nearest_accounts(conns.app, lon, lat, k=1, user=USER).iloc[0]
    visit = log_visit(
        conns.app,
        first["external_id"],
        outcome="Ordered samples",
        notes="Call back in May",
        user=USER,
        lon=lon,
        lat=lat,
        duration_min=30,
    )
    assert visit > 0
    again = nearest_accounts(conns.app, lon, lat, k=1, user=USER).iloc[0]
    assert again["last_visit"] is not None and (
        first["last_visit"] is None or again["last_visit"] > first["last_visit"]
    )
    history = account_history(conns.app, first["external_id"], user=USER)
    assert history.iloc[0]["what"] == "visit" and "Ordered samples" in history.iloc[0]["detail"]
    not_visited = nearest_accounts(conns.app, lon, lat, k=5, not_visited_days=1, user=USER)
    assert first["account_id"] not in set(not_visited["account_id"])
    with pytest.raises(NearbyError, match="outcome"):
        log_visit(conns.app, first["external_id"], outcome=" ", notes="", user=USER)
    with pytest.raises(NearbyError, match="No account"):
        log_visit(conns.app, "no-such-account", outcome="x", notes="", user=USER)


def test_bad_positions_and_sizes_are_refused(conns) -> None:
    with pytest.raises(NearbyError, match="latitude"):
        nearest_accounts(conns.app, -87.6, 95.0, user=USER)
    with pytest.raises(NearbyError, match="Ask for"):
        nearest_accounts(conns.app, -87.6, 41.9, k=0, user=USER)


@pytest.mark.parametrize(
    ("text", "how"),
    [("41.88, -87.63", "coordinates"), ("60601", "postal"), ("Springfield, IL", "city")],
)
def test_a_typed_position_is_placed_offline(demo_settings: Settings, text: str, how: str) -> None:
    lon, lat, found = position_from_text(text, load_gazetteer(demo_settings.data_dir))
    assert found.startswith(how)
    assert 41.0 < lat < 42.5 or (how == "city" and 39.0 < lat < 40.5)
    assert -90.0 < lon < -87.0


def test_an_unplaceable_position_is_explained(demo_settings: Settings) -> None:
    with pytest.raises(NearbyError, match="Cannot place"):
        position_from_text("Atlantis", load_gazetteer(demo_settings.data_dir))


def test_numpy_coordinates_are_accepted(conns) -> None:
    found = nearest_accounts(conns.app, np.float64(-87.63), np.float64(41.88), k=np.int64(3), user=USER)
    assert len(found) == 3


def test_last_visits_follow_every_change_to_the_visits(planned) -> None:
    _settings, conns = planned

    def kept() -> dict[int, object]:
        with conns.owner.transaction(user=USER) as cur:
            cur.execute("SELECT account_id, last_visit_at FROM account_last_visits")
            return dict(cur.fetchall())

    def truth() -> dict[int, object]:
        with conns.owner.transaction(user=USER) as cur:
            cur.execute(
                "SELECT account_id, max(occurred_at) FROM interactions"
                " WHERE kind = 'visit' GROUP BY account_id"
            )
            return dict(cur.fetchall())

    assert kept() == truth() and len(truth()) > 100
    with conns.owner.transaction(user=USER) as cur:
        cur.execute(
            "DELETE FROM interactions WHERE interaction_id IN (SELECT interaction_id FROM interactions"
            " WHERE kind = 'visit' ORDER BY occurred_at DESC LIMIT 40)"
        )
        cur.execute(
            "UPDATE interactions SET occurred_at = occurred_at - interval '400 days'"
            " WHERE interaction_id IN (SELECT interaction_id FROM interactions WHERE kind = 'visit' LIMIT 60)"
        )
        cur.execute("UPDATE interactions SET kind = 'call' WHERE kind = 'visit' AND account_id % 7 = 0")
    assert kept() == truth()


def test_search_finds_accounts_by_name_id_city_and_zip_regardless_of_case(conns) -> None:
    with conns.owner.transaction(user=USER) as cur:
        cur.execute(
            "SELECT external_id, name, city, postal_code FROM accounts WHERE geom IS NOT NULL"
            " AND city IS NOT NULL AND postal_code IS NOT NULL ORDER BY account_id LIMIT 1"
        )
        external_id, name, city, postal_code = cur.fetchone()
    by_id = find_accounts(conns.app, external_id.lower(), user="t")
    assert by_id["external_id"].iloc[0] == external_id
    by_name = find_accounts(conns.app, name.upper()[:8], user="t")
    assert (by_name["name"].str.upper().str.contains(name.upper()[:8], regex=False)).all() and len(by_name)
    assert external_id in set(find_accounts(conns.app, city.swapcase(), user="t", limit=500)["external_id"])
    by_zip = find_accounts(conns.app, postal_code, user="t")
    assert by_zip["postal_code"].iloc[0] == postal_code
    assert find_accounts(conns.app, "%", user="t").empty and find_accounts(conns.app, "x", user="t").empty
    assert set(find_accounts(conns.app, "a", user="t").columns) >= {"lon", "lat", "name"}


def test_accounts_at_the_same_distance_as_the_kth_rank_by_id_even_beyond_the_first_fetch(connections) -> None:
    """Forty accounts share one spot; the 25 nearest are those with the lowest ids, not any 25 of them.

    The first scan fetches k + :data:`geo.field.nearby.KNN_TIE_MARGIN` candidates in the index's
    order, which among equal distances is arbitrary; the search widens while the last one ties.
    """
    with connections.owner.transaction(user=USER) as cur:
        for number in range(40):
            cur.execute(
                "INSERT INTO accounts (external_id, name, status, geom, geocode_precision)"
                " VALUES (%s, %s, 'customer', ST_SetSRID(ST_MakePoint(-87.7, 41.9), 4326), 'rooftop')"
                " RETURNING account_id",
                (f"T-{number:02d}", f"Tied {number}"),
            )
        cur.execute(
            "INSERT INTO accounts (external_id, name, status, geom, geocode_precision)"
            " VALUES ('NEAR', 'Nearer', 'customer', ST_SetSRID(ST_MakePoint(-87.6, 41.9), 4326), 'rooftop')"
        )
        cur.execute("SELECT account_id FROM accounts WHERE external_id LIKE 'T-%' ORDER BY account_id")
        tied = [row[0] for row in cur.fetchall()]
        # Rewrite half of the tied rows, so that the index does not return the ties in id order.
        cur.execute("CLUSTER accounts USING accounts_pkey")
        cur.execute("UPDATE accounts SET name = name WHERE external_id LIKE 'T-%' AND account_id % 2 = 0")
    found = nearest_accounts(connections.app, -87.6, 41.9, k=25, user=USER)
    assert found["external_id"].iloc[0] == "NEAR"
    assert found["account_id"].tolist()[1:] == tied[:24]
