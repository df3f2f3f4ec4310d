"""The app as an ASGI application with compressed responses: ``uvicorn serve:app``.

Streamlit's own server leaves its front-end bundles (about 5 MB of JavaScript) uncompressed
and expects a reverse proxy to compress them. Self-hosted installs often have none, so this
entry point wraps the same app (``app.py``) in gzip compression — the first visit downloads
about a third of the bytes — and loads the sales cube's facts while the server starts, so
the first visitor does not wait for them.

It also carries the sign-in session (:mod:`geo.privacy.sessions`) in a cookie, which Streamlit cannot
set with ``HttpOnly``: after a sign-in the page posts the session's one-time hand-off code to
``/auth/session``, answered with the session cookie (``HttpOnly``, ``SameSite=Lax``, ``Secure``
when served over HTTPS: a proxy that ends TLS sends ``X-Forwarded-Proto`` and is trusted with
uvicorn's ``--forwarded-allow-ips``); after a sign-out it posts to ``/auth/sign-out``,
answered by removing the cookie. Posts from other sites are refused.
"""

import asyncio
import functools
import gzip
import importlib
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from urllib.parse import parse_qs

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamlit import runtime

from geo.config import APP_ROLE, load_settings
from geo.errors import GcrmError
from geo.maps.tiles import BASEMAP_FILE, TILE_PATH, TileArchive
from geo.privacy.sessions import SESSION_COOKIE, SESSION_PATH, SIGN_OUT_PATH, claim_handoff
from geo.store.bootstrap import app_password, owner_url
from geo.store.db import Database, role_dsn
from pages._shared.style import APP_STYLE

MIN_COMPRESSED_BYTES = 1_024
TILE_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
TILE_MAX_AGE_S = 86_400
"""Browsers keep basemap tiles a day (the archive changes only with a new release)."""
STATIC_PREFIX = "/static/"
UNSTYLED_PREFIXES = (STATIC_PREFIX, "/_stcore/", "/media/", "/component/", "/auth/", "/basemap/")
"""Paths whose answers are never the app's HTML page (files, health, websockets, downloads)."""
"""Streamlit's front-end files (hashed names, unchanged while the server runs)."""
STATIC_GZIP_LEVEL = 9
"""Compressed once per file, so the smallest answer is worth the time."""
UNCOMPRESSED_REQUEST_DROPS = (b"accept-encoding", b"if-none-match", b"if-modified-since", b"range")
"""Request headers left out when the middleware asks for the plain file it keeps (a full 200)."""
MAX_FORM_BYTES = 1_024
"""Largest body the session endpoints read (a hand-off code is 64 characters)."""
SESSION_POOL_CONNECTIONS = 2
RUNTIME_WAIT_S = 30.0
"""How long the warm-up waits for Streamlit's runtime, whose caches it fills."""
WARM_UP_THREAD = "gcrm-warm-up"


def _warm_when_ready() -> None:
    """Wait for the runtime, then import the pages (their caches bind to it) and warm them."""
    deadline = time.monotonic() + RUNTIME_WAIT_S
    while not runtime.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    importlib.import_module("pages._shared.caches").warm_caches()


@asynccontextmanager
async def warm_up(_app: st.App) -> AsyncIterator[None]:
    """Warm the caches in the background while the server starts taking requests."""
    threading.Thread(target=_warm_when_ready, name=WARM_UP_THREAD, daemon=True).start()
    yield


@functools.cache
def _app_database() -> Database:
    """The app role's pool of the session endpoints (the app has prepared the database by then)."""
    settings = load_settings()
    dsn = role_dsn(owner_url(settings), role=APP_ROLE, password=app_password(settings))
    return Database(dsn, max_connections=SESSION_POOL_CONNECTIONS, role_per_user=True)


def session_routes(database: Callable[[], Database]) -> list[Route]:
    """Build the endpoints that set and remove the session cookie.

    Parameters
    ----------
    database
        Returns the app-role database the hand-off codes are claimed from.

    Returns
    -------
    list of Route
        ``POST /auth/session`` (form field ``code``) and ``POST /auth/sign-out``.
    """

    async def start_session(request: Request) -> Response:
        refusal = _refusal(request)
        if refusal is not None:
            return refusal
        body = await _body(request)
        if body is None:
            return PlainTextResponse("Request too large.", status_code=413)
        code = parse_qs(body.decode("ascii", errors="replace")).get("code", [""])[0]
        try:
            cookie = await run_in_threadpool(claim_handoff, database(), code) if code else None
        except GcrmError as exc:
            return PlainTextResponse(str(exc), status_code=503)
        if cookie is None:
            return PlainTextResponse(
                "This sign-in expired or was used already; sign in again.", status_code=400
            )
        response = _no_store(Response(status_code=204))
        response.set_cookie(
            SESSION_COOKIE, cookie.token, max_age=cookie.max_age, **_cookie_attributes(request)
        )
        return response

    async def end_session(request: Request) -> Response:
        refusal = _refusal(request)
        if refusal is not None:
            return refusal
        response = _no_store(Response(status_code=204))
        response.delete_cookie(SESSION_COOKIE, **_cookie_attributes(request))
        return response

    return [
        Route(SESSION_PATH, start_session, methods=["POST"]),
        Route(SIGN_OUT_PATH, end_session, methods=["POST"]),
    ]


def basemap_routes(archive: Callable[[], TileArchive]) -> list[Route]:
    """Build the endpoint that serves the offline basemap's vector tiles (:data:`geo.maps.tiles.TILE_PATH`).

    Parameters
    ----------
    archive
        Returns the opened tile archive (opened on the first tile asked for).

    Returns
    -------
    list of Route
        ``GET /basemap/{z}/{x}/{y}.mvt``: the gzipped tile (``Content-Encoding: gzip``),
        or an empty answer where the archive has none (open sea).
    """

    async def tile(request: Request) -> Response:
        params = request.path_params
        body = archive().tile(params["z"], params["x"], params["y"])
        headers = {"Cache-Control": f"public, max-age={TILE_MAX_AGE_S}"}
        if body is None:
            return Response(b"", media_type=TILE_MEDIA_TYPE, headers=headers)
        return Response(body, media_type=TILE_MEDIA_TYPE, headers={**headers, "Content-Encoding": "gzip"})

    path = TILE_PATH.replace("{z}", "{z:int}").replace("{x}", "{x:int}").replace("{y}", "{y:int}")
    return [Route(path, tile, methods=["GET"])]


@functools.cache
def _basemap() -> TileArchive:
    return TileArchive(load_settings().data_dir / BASEMAP_FILE)


def _refusal(request: Request) -> Response | None:
    """Refuse a post another site made the browser send (login CSRF)."""
    if request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        return PlainTextResponse("Only the app itself may post here.", status_code=403)
    return None


async def _body(request: Request) -> bytes | None:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    return body


def _cookie_attributes(request: Request) -> dict:
    return {"path": "/", "httponly": True, "samesite": "lax", "secure": request.url.scheme == "https"}


class CompressedStaticFiles:
    """ASGI middleware: compress each front-end file once and keep it, instead of once per visit.

    Under eight sessions at once, gzipping the same 5 MB of JavaScript for every browser was
    a sixth of the server's work. Files under ``/static/`` never change while the server runs
    (their names carry a hash), so the first compressed answer of each path is kept (in memory:
    about 2 MB) and served to every browser that accepts gzip. Other requests, and browsers
    that do not accept gzip, pass through to the app.

    Parameters
    ----------
    app
        The ASGI application it wraps (Streamlit's, with its own gzip for dynamic answers).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._kept: dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]] = {}
        self._lock = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a static file from the compressed copy, making it on the first request."""
        if not self._compressible(scope):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        kept = self._kept.get(path)
        if kept is None:
            async with self._lock:
                kept = self._kept.get(path) or await self._compress(scope, receive)
        status, headers, body = kept
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _compressible(scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(STATIC_PREFIX):
            return False
        accepted = dict(scope["headers"]).get(b"accept-encoding", b"")
        return b"gzip" in accepted

    async def _compress(self, scope: Scope, receive: Receive) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Ask the app for the plain file; keep a gzipped copy of a successful answer."""
        plain = {
            **scope,
            "headers": [(k, v) for k, v in scope["headers"] if k not in UNCOMPRESSED_REQUEST_DROPS],
        }
        start: dict = {}
        chunks: list[bytes] = []

        async def collect(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(plain, receive, collect)
        body = b"".join(chunks)
        headers = [
            (k, v)
            for k, v in start.get("headers", [])
            if k.lower() not in (b"content-length", b"content-encoding")
        ]
        status = start.get("status", 500)
        if status != 200 or len(body) < MIN_COMPRESSED_BYTES:
            return status, [*headers, (b"content-length", str(len(body)).encode())], body
        packed = await asyncio.to_thread(gzip.compress, body, compresslevel=STATIC_GZIP_LEVEL)
        headers += [
            (b"content-encoding", b"gzip"),
            (b"vary", b"Accept-Encoding"),
            (b"content-length", str(len(packed)).encode()),
        ]
        kept = (status, headers, packed)
        self._kept[scope["path"]] = kept
        return kept


class PageStyle:
    """ASGI middleware: add the app's style sheet (:data:`pages._shared.style.APP_STYLE`) to its HTML page.

    Parameters
    ----------
    app
        The ASGI application it wraps (Streamlit's).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass every answer through, adding the style sheet to an HTML page's head."""
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"].startswith(UNSTYLED_PREFIXES):
            await self.app(scope, receive, send)
            return
        start: dict = {}
        chunks: list[bytes] = []

        async def restyle(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                if not _is_html(message):
                    await send(message)
                return
            if not _is_html(start):
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks).replace(b"</head>", APP_STYLE.encode() + b"</head>", 1)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        # Streamlit gzips its page itself: ask for the plain page (the gzip around this compresses it).
        plain = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]}
        await self.app(plain, receive, restyle)


def _is_html(start: dict) -> bool:
    content_type = dict(start.get("headers", [])).get(b"content-type", b"")
    return content_type.startswith(b"text/html")


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


app = st.App(
    "app.py",
    routes=[*session_routes(_app_database), *basemap_routes(_basemap)],
    middleware=[
        Middleware(CompressedStaticFiles),
        Middleware(GZipMiddleware, minimum_size=MIN_COMPRESSED_BYTES),
        Middleware(PageStyle),
    ],
    lifespan=warm_up,
)
