"""Crawled pages that are not for this tool end `skipped` with a reason code (a Content-Type
no processor takes, a body over the size cap, a blank page), while a binary body behind a
text Content-Type stays `rejected`; a real site on 127.0.0.1 and a real SQLite store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from ingest.models import Outcome
from ingest.store import open_store
from tests.support.quiet_handler import QuietHandler
from tests.support.web_helpers import config, crawl_through_pipeline

CAP = 64 * 1024
INDEX = b"""<html><head><title>Index</title></head><body><h1>Index</h1>
<p>Links to everything on this site.</p>
<a href="/page.html">page</a> <a href="/logo.png">logo</a> <a href="/feed">feed</a>
<a href="/report.pdf">report</a> <a href="/big.html">big</a> <a href="/blank.html">blank</a>
<a href="/bad.html">bad</a></body></html>"""
PAGES: dict[str, tuple[bytes, str]] = {
    "/": (INDEX, "text/html; charset=utf-8"),
    "/page.html": (
        b"<html><body><h1>Page</h1><p>Real prose worth keeping.</p></body></html>",
        "text/html",
    ),
    "/logo.png": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "image/png"),
    "/feed": (b'<?xml version="1.0"?><rss><channel></channel></rss>', "application/rss+xml"),
    "/report.pdf": (b"%PDF-1.7\n" + bytes(range(256)) * 4, "application/pdf"),
    "/big.html": (b"<html><body>" + b"<p>word</p>" * (CAP // 8) + b"</body></html>", "text/html"),
    "/blank.html": (b"  \n\n   \n", "text/html"),
    "/bad.html": (bytes(range(256)) * 8, "text/html"),
}


class Handler(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        body, content_type = PAGES.get(self.path, (b"not here", "text/plain"))
        self.send(200 if self.path in PAGES else 404, body, content_type)


@pytest.fixture
def base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_pages_not_for_this_tool_are_skipped_with_their_code(base: str, tmp_path: Path) -> None:
    cfg = config([f"{base}/"], max_depth=1, max_bytes=CAP, ignore_robots=True)
    with open_store(str(tmp_path / "store.db")) as store:
        result = crawl_through_pipeline(cfg, store, "web-skipped", batch_size=4)
        exported = {record.uri for record in store.iter_export()}
        states = {state.uri: state for state in store.iter_items(f"web:{base}")}

    skipped = {s.uri.removeprefix(base): s.code for s in result.skipped}
    assert skipped == {
        "/logo.png": "unsupported-content-type",
        "/feed": "unsupported-content-type",
        "/big.html": "too-large",
        "/blank.html": "empty",
    }
    # A PDF is read now (its processor exists); this one is junk behind the magic bytes.
    rejected = {r.uri.removeprefix(base): r.errors[0] for r in result.rejected}
    assert sorted(rejected) == ["/bad.html", "/report.pdf"]
    assert rejected["/bad.html"].startswith("binary-body")
    assert (result.counts.new, result.counts.skipped, result.counts.rejected) == (2, 4, 2)
    assert exported == {f"{base}/", f"{base}/page.html"}
    assert states[f"{base}/logo.png"].outcome is Outcome.SKIPPED
    reason = next(s.reason for s in result.skipped if s.uri.endswith("/logo.png"))
    assert reason == "content type image/png is not one this tool ingests"
