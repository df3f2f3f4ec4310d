"""The app as an ASGI application with compressed responses: ``uvicorn serve:app``.

Streamlit's own server leaves its front-end bundles (about 5 MB of JavaScript) uncompressed
and expects a reverse proxy to compress them. Self-hosted installs often have none, so this
entry point wraps the same app (``app.py``) in gzip compression — the first visit downloads
about a third of the bytes — and loads the sales cube's facts while the server starts, so
the first visitor does not wait for them.
"""

import importlib
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from streamlit import runtime

MIN_COMPRESSED_BYTES = 1_024
RUNTIME_WAIT_S = 30.0
"""How long the warm-up waits for Streamlit's runtime, whose caches it fills."""
WARM_UP_THREAD = "gcrm-warm-up"


def _warm_when_ready() -> None:
    """Wait for the runtime, then import the pages (their caches bind to it) and warm them."""
    deadline = time.monotonic() + RUNTIME_WAIT_S
    while not runtime.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    importlib.import_module("pages").warm_caches()


@asynccontextmanager
async def warm_up(_app: st.App) -> AsyncIterator[None]:
    """Warm the caches in the background while the server starts taking requests."""
    threading.Thread(target=_warm_when_ready, name=WARM_UP_THREAD, daemon=True).start()
    yield


app = st.App(
    "app.py",
    middleware=[Middleware(GZipMiddleware, minimum_size=MIN_COMPRESSED_BYTES)],
    lifespan=warm_up,
)
