"""serve.py middleware: static files compressed once (CompressedStaticFiles), the page style (PageStyle)."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.testclient import TestClient

import serve


def _client(static_dir: Path, served: list[str]) -> TestClient:
    files = StaticFiles(directory=static_dir)

    async def counting(scope, receive, send) -> None:
        served.append(scope["path"])
        await files(scope, receive, send)

    app = Starlette(
        routes=[Mount("/static", app=counting)],
        middleware=[
            Middleware(serve.CompressedStaticFiles),
            Middleware(GZipMiddleware, minimum_size=serve.MIN_COMPRESSED_BYTES),
        ],
    )
    return TestClient(app)


def test_a_static_file_is_compressed_once_and_served_compressed_to_every_browser(tmp_path: Path) -> None:
    (tmp_path / "js").mkdir()
    bundle = ("const gcrm = 1;\n" * 20_000).encode()
    (tmp_path / "js" / "main.abc123.js").write_bytes(bundle)
    served: list[str] = []
    client = _client(tmp_path, served)
    answers = [
        client.get(
            "/static/js/main.abc123.js", headers={"Accept-Encoding": "gzip, br", "If-None-Match": '"x"'}
        )
        for _ in range(3)
    ]
    assert served == ["/static/js/main.abc123.js"], "the file was read and compressed more than once"
    for answer in answers:
        assert answer.status_code == 200
        assert answer.headers["content-encoding"] == "gzip"
        assert answer.content == bundle
        assert int(answer.headers["content-length"]) < len(bundle) / 20
    plain = client.get("/static/js/main.abc123.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and plain.content == bundle and "content-encoding" not in plain.headers
    assert len(served) == 2


def test_missing_files_and_other_paths_pass_through_and_are_not_kept(tmp_path: Path) -> None:
    served: list[str] = []
    client = _client(tmp_path, served)
    for _ in range(2):
        missing = client.get("/static/js/gone.js", headers={"Accept-Encoding": "gzip"})
        assert missing.status_code == 404
    assert served == ["/static/js/gone.js", "/static/js/gone.js"]
    (tmp_path / "small.css").write_text("a{}")
    small = client.get("/static/small.css", headers={"Accept-Encoding": "gzip"})
    assert small.status_code == 200 and small.content == b"a{}"
    client.get("/static/small.css", headers={"Accept-Encoding": "gzip"})
    assert served[-2:] == ["/static/small.css", "/static/small.css"], "a file too small to compress was kept"


def test_the_html_page_gets_the_style_sheet_and_nothing_else_changes() -> None:
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    page = "<html><head><title>gcrm</title></head><body></body></html>"
    app = Starlette(
        routes=[
            Route("/", lambda _request: HTMLResponse(page)),
            Route("/region_map", lambda _request: HTMLResponse(page)),
            Route("/_stcore/health", lambda _request: HTMLResponse("<head></head>")),
            Route("/data", lambda _request: JSONResponse({"html": "</head>"})),
        ],
        middleware=[Middleware(serve.PageStyle)],
    )
    client = TestClient(app)
    for path in ("/", "/region_map"):
        answer = client.get(path)
        assert answer.text.count('<style id="gcrm-style">') == 1
        assert answer.text.index("gcrm-style") < answer.text.index("</head>")
        assert int(answer.headers["content-length"]) == len(answer.content)
    assert client.get("/_stcore/health").text == "<head></head>"
    assert client.get("/data").json() == {"html": "</head>"}
