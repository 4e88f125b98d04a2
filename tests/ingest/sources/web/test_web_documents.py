"""`ingest web` takes documents: a page linking to a PDF, a DOCX, a PPTX, an XLSX and an
EPUB served with their content types by a real server on 127.0.0.1, crawled by WebSource
and processed by the same pipeline as files; a document over the response cap is
rejected as too large, and the crawler says it accepts these types."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from ingest.content_types import DOCX, EPUB, PDF, PPTX, XLSX
from ingest.store import open_store
from tests.support.documents import make_docx, make_epub, make_pdf, make_pptx, make_xlsx
from tests.support.quiet_handler import QuietHandler
from tests.support.web_helpers import config, crawl_through_pipeline

DOCUMENTS: dict[str, tuple[str, bytes]] = {
    "/files/handbook.pdf": (PDF, make_pdf()),
    "/files/manual": (DOCX, make_docx()),  # no extension: the header and the bytes say it
    "/files/deck.pptx": (PPTX, make_pptx()),
    "/files/book.xlsx": (XLSX, make_xlsx()),
    "/files/story.epub": (EPUB, make_epub()),
    "/files/big.pdf": (PDF, make_pdf() + b"\n%" + b"x" * 100_000),
}
INDEX = "".join(f'<p><a href="{path}">{path}</a></p>' for path in DOCUMENTS).encode()
ACCEPTS: list[str] = []


class Handler(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        ACCEPTS.append(self.headers.get("Accept", ""))
        if self.path == "/":
            self.send(200, b"<html><body><h1>Docs</h1>" + INDEX + b"</body></html>")
        elif self.path in DOCUMENTS:
            content_type, body = DOCUMENTS[self.path]
            self.send(200, body, content_type)
        else:
            self.send(404, b"missing")


@pytest.fixture
def base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_documents_are_fetched_and_processed(base: str, tmp_path: Path) -> None:
    cfg = config([f"{base}/"], max_depth=1, ignore_robots=True, max_bytes=60_000)
    with open_store(str(tmp_path / "store.db")) as store:
        result = crawl_through_pipeline(cfg, store, "web-documents")
        stored = {record.uri.removeprefix(base): record for record in store.iter_export()}
    assert result.counts.new == 6, result  # the index and five documents
    assert result.rejected == []
    assert [(s.uri.removeprefix(base), s.code) for s in result.skipped] == [
        ("/files/big.pdf", "too-large")
    ]
    for path, (content_type, _) in DOCUMENTS.items():
        if path == "/files/big.pdf":
            continue
        assert stored[path].content_type == content_type, path
        assert stored[path].chunks, path
    assert stored["/files/handbook.pdf"].chunks[3].metadata["page_start"] == 4
    assert stored["/files/manual"].chunks[1].metadata["heading_path"][-1] == "Getting started"
    assert stored["/files/deck.pptx"].chunks[1].metadata["slide"] == 2
    assert stored["/files/book.xlsx"].chunks[0].metadata["cell_range"] == "A1:C4"
    assert stored["/files/story.epub"].chunks[1].metadata["chapter"] == 2
    assert all(PDF in accept and DOCX in accept for accept in ACCEPTS if accept)
