"""The optional street geocoder against a local server speaking Nominatim's protocol."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from geo.config import Settings
from geo.ingest.street_geocoder import street_geocoder
from geo.store.bootstrap import Connections


class _Nominatim(BaseHTTPRequestHandler):
    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query).get("q", [""])[0]
        type(self).asked.append(query)
        body = json.dumps([{"lat": "41.8800", "lon": "-87.6300", "display_name": query}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        return


@pytest.fixture
def nominatim() -> Iterator[str]:
    _Nominatim.asked = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Nominatim)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_rep_geocodes_through_the_cache_as_themselves(
    planned: tuple[Settings, Connections], nominatim: str
) -> None:
    settings, conns = planned
    settings = replace(settings, geocoder_url=nominatim, geocoder_min_delay=0.0)
    rows = pd.DataFrame(
        {
            "street": ["1 Main St", "1 Main St"],
            "city": ["Chicago"] * 2,
            "state": ["IL"] * 2,
            "postal_code": ["60601"] * 2,
        }
    )
    geocode = street_geocoder(settings, conns.app, user="rep")
    first = geocode(rows)
    again = geocode(rows)
    assert first["lat"].tolist() == again["lat"].tolist() == [41.88, 41.88]
    assert _Nominatim.asked == ["1 Main St, Chicago, IL 60601"]
    with conns.owner.transaction(user="t") as cur:
        cur.execute("SELECT query_key FROM geocode_cache")
        assert cur.fetchall() == [("1 Main St, Chicago, IL 60601",)]
