"""`ingest web` takes documents through the web flow (#20): a real server on 127.0.0.1
serves a page linking a PDF, DOCX, PPTX, XLSX and EPUB with their content types, a PDF
over the response cap, and a PDF sent as application/octet-stream. The flow stores each
document with its page, slide, sheet and chapter locations, skips the oversize one with
its reason, and a re-crawl gets 304s and reads none of them again."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ingest.content_types import DOCX, EPUB, PDF, PPTX, XLSX
from tests.support.documents import make_docx, make_epub, make_pdf, make_pptx, make_xlsx

pytestmark = pytest.mark.prefect

MAX_BYTES = 60_000
DOCUMENTS: dict[str, tuple[str, bytes]] = {
    "/files/handbook.pdf": (PDF, make_pdf()),
    "/files/manual.docx": (DOCX, make_docx()),
    "/files/deck.pptx": (PPTX, make_pptx()),
    "/files/book.xlsx": (XLSX, make_xlsx()),
    "/files/story.epub": (EPUB, make_epub()),
    # Servers that do not know a type send octet-stream: the bytes say it is a PDF.
    "/files/download.pdf": ("application/octet-stream", make_pdf()),
    "/files/big.pdf": (PDF, make_pdf() + b"\n%" + b"x" * (MAX_BYTES * 2)),
}
INDEX = (
    "<html><head><title>Docs</title></head><body><h1>Documents</h1>"
    + "".join(f'<p><a href="{path}">{path}</a></p>' for path in DOCUMENTS)
    + "</body></html>"
).encode()


@dataclass
class Log:
    hits: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, status: int) -> None:
        with self.lock:
            self.hits.append((path, status))


def _handler(log: Log) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            if self.path == "/":
                content_type, body = "text/html; charset=utf-8", INDEX
            elif self.path in DOCUMENTS:
                content_type, body = DOCUMENTS[self.path]
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                log.add(self.path, 404)
                return
            etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                log.add(self.path, 304)
                return
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)
            log.add(self.path, 200)

    return Handler


@pytest.fixture
def served() -> Iterator[tuple[str, Log]]:
    log = Log()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(log))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _run(base: str, store: Path) -> dict[str, Any]:
    from flows.params import RunOptions
    from flows.web import ingest_web
    from ingest.errors import RunFailedError
    from ingest.sources.web import WebSourceConfig

    site = WebSourceConfig(
        seeds=[f"{base}/"],
        max_depth=1,
        ignore_robots=True,
        max_bytes=MAX_BYTES,
        allow_private_network=True,
        connect_timeout=2.0,
        read_timeout=2.0,
        request_deadline=5.0,
        backoff_base=0.01,
        backoff_max=0.05,
    )

    async def main() -> Any:
        return await ingest_web(
            site=site, options=RunOptions(store=str(store), batch_size=20), return_state=True
        )

    report = asyncio.run(main()).result(raise_on_failure=False)
    if isinstance(report, RunFailedError):
        report = report.report.model_dump(mode="json")
    assert isinstance(report, dict), report
    return report


def test_documents_crawled_stored_with_locations_then_304(
    prefect_api: str, isolated_results: Path, served: tuple[str, Log], tmp_path: Path
) -> None:
    from ingest.store import open_store

    base, log = served
    store = tmp_path / "web.db"
    first = _run(base, store)
    counts = first["counts"]
    assert (counts["new"], counts["failed"], counts["rejected"]) == (7, 0, 0), first
    assert [(s["uri"].removeprefix(base), s["code"]) for s in first["skipped"]] == [
        ("/files/big.pdf", "too-large")
    ], first["skipped"]
    assert str(MAX_BYTES) in first["skipped"][0]["reason"]
    # The oversize PDF has no links to lose: the crawl stays complete.
    assert first["notes"] == [], first["notes"]

    with open_store(str(store)) as opened:
        assert opened.check() == []
        stored = {record.uri.removeprefix(base): record for record in opened.iter_export()}
    assert "/files/big.pdf" not in stored
    for path, (content_type, _) in DOCUMENTS.items():
        if path != "/files/big.pdf":
            assert stored[path].content_type == (PDF if path.endswith(".pdf") else content_type)
            assert stored[path].chunks, path
    pdf = stored["/files/handbook.pdf"]
    assert [c.metadata["page_start"] for c in pdf.chunks] == [
        c.metadata["page_end"] for c in pdf.chunks
    ]
    assert pdf.chunks[3].metadata["page_start"] == 4
    assert [c.text for c in stored["/files/download.pdf"].chunks] == [c.text for c in pdf.chunks]
    docx = stored["/files/manual.docx"]
    assert docx.chunks[1].metadata["heading_path"][-1] == "Getting started"
    assert [c.metadata["slide"] for c in stored["/files/deck.pptx"].chunks][:2] == [1, 2]
    xlsx = stored["/files/book.xlsx"].chunks[0].metadata
    assert (xlsx["sheet"], xlsx["cell_range"]) == ("Inventory", "A1:C4"), xlsx
    assert stored["/files/story.epub"].chunks[1].metadata["chapter"] == 2

    log.hits.clear()
    second = _run(base, store)
    counts = second["counts"]
    assert (counts["unchanged"], counts["new"], counts["updated"]) == (7, 0, 0), second
    assert counts["deleted"] == counts["failed"] == 0, second
    statuses = dict(log.hits)
    stored_paths = ["/", *(p for p in DOCUMENTS if p != "/files/big.pdf")]
    assert {path: statuses.get(path) for path in stored_paths} == dict.fromkeys(stored_paths, 304)
    with open_store(str(store)) as opened:
        again = {record.uri.removeprefix(base): record for record in opened.iter_export()}
    assert again == stored
