"""The ASGI endpoints of ``serve.py`` that set and remove the session cookie."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import serve
from geo.privacy.sessions import SESSION_COOKIE, SESSION_PATH, SIGN_OUT_PATH, authenticate, resume_session
from geo.store.bootstrap import Connections
from geo.store.users import add_user

PASSWORD = "correct-horse"


@pytest.fixture
def carol(connections: Connections) -> Connections:
    add_user(connections.owner, "carol", role="admin", password=PASSWORD, actor="t")
    return connections


def _client(conns: Connections, scheme: str) -> TestClient:
    routes = serve.session_routes(lambda: conns.app)
    return TestClient(Starlette(routes=routes), base_url=f"{scheme}://testserver")


def _code(conns: Connections) -> str:
    new = authenticate(conns.app, "carol", PASSWORD)
    assert new is not None
    return new.handoff


def _attributes(set_cookie: str) -> tuple[str, dict[str, str]]:
    first, *rest = (part.strip() for part in set_cookie.split(";"))
    name, value = first.split("=", 1)
    assert name == SESSION_COOKIE
    attributes = {}
    for part in rest:
        key, _, val = part.partition("=")
        attributes[key.lower()] = val.lower()
    return value, attributes


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_a_hand_off_code_becomes_an_http_only_lax_cookie_secure_over_https(
    carol: Connections, scheme: str
) -> None:
    client = _client(carol, scheme)
    response = client.post(
        SESSION_PATH, data={"code": _code(carol)}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert response.status_code == 204, response.text
    assert response.headers["cache-control"] == "no-store"
    [set_cookie] = response.headers.get_list("set-cookie")
    token, attributes = _attributes(set_cookie)
    assert "httponly" in attributes
    assert attributes["samesite"] == "lax"
    assert attributes["path"] == "/"
    assert ("secure" in attributes) is (scheme == "https")
    assert 7 * 86_400 - 60 < int(attributes["max-age"]) <= 7 * 86_400
    assert resume_session(carol.app, token).username == "carol"


def test_a_code_is_good_once(carol: Connections) -> None:
    client = _client(carol, "https")
    code = _code(carol)
    assert client.post(SESSION_PATH, data={"code": code}).status_code == 204
    replay = client.post(SESSION_PATH, data={"code": code})
    assert replay.status_code == 400 and "sign in again" in replay.text
    assert "set-cookie" not in replay.headers
    assert client.post(SESSION_PATH, data={}).status_code == 400


def test_posts_from_other_sites_and_oversized_bodies_are_refused(carol: Connections) -> None:
    client = _client(carol, "https")
    code = _code(carol)
    for site in ("cross-site", "same-site"):
        refused = client.post(SESSION_PATH, data={"code": code}, headers={"Sec-Fetch-Site": site})
        assert refused.status_code == 403 and "set-cookie" not in refused.headers
        assert client.post(SIGN_OUT_PATH, headers={"Sec-Fetch-Site": site}).status_code == 403
    too_large = client.post(SESSION_PATH, data={"code": code, "padding": "x" * serve.MAX_FORM_BYTES})
    assert too_large.status_code == 413
    assert client.get(SESSION_PATH).status_code == 405
    assert client.post(SESSION_PATH, data={"code": code}).status_code == 204, "a refused post used the code"


def test_sign_out_removes_the_cookie(carol: Connections) -> None:
    response = _client(carol, "https").post(SIGN_OUT_PATH, headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 204
    [set_cookie] = response.headers.get_list("set-cookie")
    value, attributes = _attributes(set_cookie)
    assert value in ("", '""') and attributes["max-age"] == "0"
    assert "httponly" in attributes and attributes["samesite"] == "lax" and "secure" in attributes
