"""The app as an ASGI application with compressed responses: ``uvicorn serve:app``.

Streamlit's own server leaves its front-end bundles (about 5 MB of JavaScript) uncompressed
and expects a reverse proxy to compress them. Self-hosted installs often have none, so this
entry point wraps the same app (``app.py``) in gzip compression: the first visit downloads
about a quarter of the bytes.
"""

import streamlit as st
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware

MIN_COMPRESSED_BYTES = 1_024

app = st.App("app.py", middleware=[Middleware(GZipMiddleware, minimum_size=MIN_COMPRESSED_BYTES)])
