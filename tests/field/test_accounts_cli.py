"""Re-geocoding unplaced accounts, exports, duplicate review and merge, and the HTTP geocoder."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from gcrm import app
from geo.config import Settings
from geo.ingest.duplicates import normalise_name, probable_duplicates
from geo.privacy.exports import neutralise_formulas
from geo.store.bootstrap import Connections, prepare_database

runner = CliRunner()
ACCOUNTS = """\
Customer ID,Customer Name,Street,City,State,ZIP
A1,"=HYPERLINK(""http://x"")",1 Main St,Chicago,IL,60601
A2,"Acme, Inc.",10 Oak Ave,Denver,CO,80202
A3,ACME Incorporated,10 Oak Ave,Denver,CO,80202
A4,Lost Co,,Atlantis,,
"""


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def loaded(settings: Settings, environment, tmp_path) -> Settings:
    environment(settings)
    path = tmp_path / "accounts.csv"
    path.write_text(ACCOUNTS)
    assert (
        _invoke("import", "accounts", str(path))
        .strip()
        .endswith("read=4 inserted=4 updated=0 unchanged=0 rejected=0")
    )
    return settings


def test_normalise_name() -> None:
    names = pd.Series(["Acme, Inc.", "ACME Incorporated", "The Acme Company", "Acme & Sons LLC", None])
    assert list(normalise_name(names)) == ["acme", "acme", "acme", "acme and sons", ""]


def test_probable_duplicates_by_name_nearby_and_by_address() -> None:
    accounts = pd.DataFrame(
        {
            "external_id": ["1", "2", "3", "4", "5"],
            "name": ["Acme Inc", "ACME LLC", "Acme Co", "Other", "Different Name"],
            "street": ["", "", "", "5 Elm St", "5 elm st."],
            "postal_code": ["", "", "", "10001", "10001-1234"],
            "lon": [-87.6300, -87.6310, -87.0, -74.0, -74.1],
            "lat": [41.8800, 41.8805, 41.88, 40.7, 40.8],
        }
    )
    pairs = probable_duplicates(accounts)
    assert pairs[["external_id_a", "external_id_b", "reason"]].values.tolist() == [
        ["1", "2", "same name nearby"],
        ["4", "5", "same address"],
    ]
    assert 80 < pairs.loc[0, "distance_m"] < 120


def test_neutralise_formulas_leaves_numbers_alone() -> None:
    frame = pd.DataFrame({"name": ["=cmd()", "+1", "ok", "-x", "@SUM(A1)"], "longitude": [-87.6, 1, 2, 3, 4]})
    out = neutralise_formulas(frame)
    assert list(out["name"]) == ["'=cmd()", "'+1", "ok", "'-x", "'@SUM(A1)"]
    assert list(out["longitude"]) == [-87.6, 1, 2, 3, 4]


def test_export_csv_geojson_gpkg(loaded: Settings, tmp_path) -> None:
    csv_text = _invoke("accounts", "export")
    frame = pd.read_csv(StringIO(csv_text), dtype={"zip": str, "state_fips": str, "county_fips": str})
    assert list(frame.columns[:5]) == ["external_id", "name", "longitude", "latitude", "geocode_precision"]
    assert {"state_fips", "county_fips", "zip", "h3_r5", "h3_r7", "h3_r9"} <= set(frame.columns)
    assert frame.loc[frame["external_id"] == "A1", "name"].item().startswith("'=HYPERLINK")
    assert frame.loc[frame["external_id"] == "A1", "county_fips"].item() == "17031"
    assert frame.loc[frame["external_id"] == "A4", "geocode_precision"].item() == "none"
    geojson = json.loads(_invoke("accounts", "export", "--format", "geojson"))
    assert len(geojson["features"]) == 4
    placed = [f for f in geojson["features"] if f["geometry"] is not None]
    assert len(placed) == 3 and placed[0]["geometry"]["type"] == "Point"
    target = tmp_path / "accounts.gpkg"
    _invoke("accounts", "export", "--format", "gpkg", "--output", str(target))
    assert len(gpd.read_file(target)) == 4


def test_duplicates_listed_then_merged_keeping_both_histories(loaded: Settings, tmp_path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text("Order ID,Customer ID,Order Date,Sales\nO1,A2,2025-01-02,10\nO2,A3,2025-01-03,20\n")
    _invoke("import", "orders", str(orders))
    listed = pd.read_csv(StringIO(_invoke("duplicates", "list")))
    assert listed[["external_id_a", "external_id_b"]].values.tolist() == [["A2", "A3"]]
    assert set(listed["reason"]) == {"same name nearby"}
    assert _invoke("duplicates", "merge", "A2", "A3").strip() == (
        "merged A3 into A2: contacts=0 orders=1 interactions=0 campaign_responses=0"
    )
    conns = prepare_database(loaded)
    with conns.app.transaction(user="t") as cur:
        cur.execute(
            "SELECT o.external_id FROM orders o JOIN accounts a USING (account_id) WHERE a.external_id = 'A2'"
        )
        assert sorted(r[0] for r in cur.fetchall()) == ["O1", "O2"]
        cur.execute("SELECT count(*) FROM accounts WHERE external_id = 'A3'")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT actor, action, target, details->>'merged' FROM audit_log")
        assert cur.fetchall() == [("cli:" + __import__("getpass").getuser(), "merge_accounts", "A2", "A3")]
    conns.close()
    failed = runner.invoke(app, ["duplicates", "merge", "A2", "NOPE"])
    assert failed.exit_code == 1 and "No account with ID 'NOPE'" in failed.output


class _FakeNominatim(BaseHTTPRequestHandler):
    answers: ClassVar[dict[str, tuple[float, float]]] = {
        "1 Main St, Chicago, IL 60601": (41.8, -87.7),
        "9 Pine Rd, Atlantis": (25.0, -80.5),
    }
    asked: ClassVar[list[str]] = []
    times: ClassVar[list[float]] = []

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)["q"][0]
        type(self).asked.append(query)
        type(self).times.append(time.monotonic())
        found = self.answers.get(query)
        body = json.dumps(
            [{"lat": str(found[0]), "lon": str(found[1]), "display_name": query}] if found else []
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def fake_geocoder() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeNominatim)
    _FakeNominatim.asked = []
    _FakeNominatim.times = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_http_geocoder_is_used_and_cached(
    settings: Settings, environment, tmp_path, fake_geocoder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment(settings)
    monkeypatch.setenv("GCRM_GEOCODER_URL", fake_geocoder)
    monkeypatch.setenv("GCRM_GEOCODER_MIN_DELAY", "0")
    path = tmp_path / "accounts.csv"
    path.write_text(
        "Customer ID,Customer Name,Street,City,State,ZIP\nA1,One,1 Main St,Chicago,IL,60601\n"
        "A2,Two,5 Nowhere Ln,Chicago,IL,60601\n"
    )
    _invoke("import", "accounts", str(path))
    assert _FakeNominatim.asked == ["1 Main St, Chicago, IL 60601", "5 Nowhere Ln, Chicago, IL 60601"]
    _invoke("import", "accounts", str(path))
    assert len(_FakeNominatim.asked) == 2, "the second import must come from the cache"
    conns = prepare_database(settings)
    with conns.app.transaction(user="t") as cur:
        cur.execute(
            "SELECT external_id, geocode_precision, geocode_source, ST_X(geom) FROM accounts ORDER BY 1"
        )
        rows = cur.fetchall()
        cur.execute("SELECT count(*), count(lon) FROM geocode_cache")
        cache = cur.fetchone()
    conns.close()
    assert rows[0] == ("A1", "street", "nominatim", -87.7)
    assert rows[1][1:3] == ("postal", "zip-gazetteer")
    assert cache == (2, 1)


def test_geocode_missing_places_what_a_provider_now_finds(
    loaded: Settings, fake_geocoder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conns: Connections = prepare_database(loaded)
    with conns.owner.transaction(user="t") as cur:
        cur.execute("UPDATE accounts SET street = '9 Pine Rd' WHERE external_id = 'A4'")
    assert _invoke("geocode", "--missing").strip() == "unplaced=1 placed=0 still_unplaced=1"
    monkeypatch.setenv("GCRM_GEOCODER_URL", fake_geocoder)
    monkeypatch.setenv("GCRM_GEOCODER_MIN_DELAY", "0")
    assert _invoke("geocode", "--missing").strip() == "unplaced=1 placed=1 still_unplaced=0"
    assert _FakeNominatim.asked == ["9 Pine Rd, Atlantis"]
    with conns.app.transaction(user="t") as cur:
        cur.execute("SELECT geocode_precision, ST_Y(geom), state_fips FROM accounts WHERE external_id = 'A4'")
        assert cur.fetchone() == ("street", 25.0, "12")
    conns.close()
    assert _invoke("geocode", "--missing").strip() == "unplaced=0 placed=0 still_unplaced=0"


def test_http_geocoder_waits_between_requests(
    settings: Settings, environment, tmp_path, fake_geocoder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment(settings)
    monkeypatch.setenv("GCRM_GEOCODER_URL", fake_geocoder)
    monkeypatch.setenv("GCRM_GEOCODER_MIN_DELAY", "0.3")
    path = tmp_path / "accounts.csv"
    path.write_text(
        "Customer ID,Customer Name,Street,City\nR1,One,1 A St,X\nR2,Two,2 B St,Y\nR3,Three,3 C St,Z\n"
    )
    _invoke("import", "accounts", str(path))
    gaps = [b - a for a, b in zip(_FakeNominatim.times, _FakeNominatim.times[1:], strict=False)]
    assert len(_FakeNominatim.asked) == 3
    assert min(gaps) >= 0.29, gaps
