"""A 200-page site on 127.0.0.1 where every page and sitemap serves an ETag, a
Last-Modified or both and answers 304 to a matching conditional request, as static hosts
(nginx, S3, GitHub Pages) do. It logs every request with its conditional headers and
the status it answered, and pages can be changed, removed or made to fail."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.support.quiet_handler import QuietHandler
from tests.support.web_testsite import sitemap

SECTIONS = 9
DOCS = 20
ORPHANS = 10
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass
class Page:
    links: list[str]
    kind: str  # "etag", "modified" or "both"
    version: int = 1
    content_type: str = "text/html"
    body: bytes | None = None  # a sitemap's XML

    @property
    def etag(self) -> str | None:
        return f'"{self.version}-{len(self.links)}"' if self.kind != "modified" else None

    @property
    def last_modified(self) -> str | None:
        if self.kind == "etag":
            return None
        return format_datetime(EPOCH + timedelta(days=self.version), usegmt=True)


@dataclass(frozen=True)
class Hit:
    path: str
    if_none_match: str | None
    if_modified_since: str | None
    status: int

    @property
    def conditional(self) -> bool:
        return self.if_none_match is not None or self.if_modified_since is not None


@dataclass
class ConditionalSite:
    base: str = ""
    pages: dict[str, Page] = field(default_factory=dict)
    failing: dict[str, int] = field(default_factory=dict)  # path -> status, every time
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def build(self) -> None:
        kinds = ("etag", "modified", "both")
        paths: dict[str, list[str]] = {"/": [f"/section/{s}" for s in range(SECTIONS)]}
        for s in range(SECTIONS):
            paths[f"/section/{s}"] = ["/", f"/doc/{s}/0"]
            for k in range(DOCS):
                nxt = [f"/doc/{s}/{k + 1}"] if k + 1 < DOCS else []
                paths[f"/doc/{s}/{k}"] = [f"/section/{s}", *nxt]
        for j in range(ORPHANS):
            paths[f"/orphan/{j}"] = []
        for n, (path, links) in enumerate(paths.items()):
            self.pages[path] = Page(links, kinds[n % 3])
        orphans = [f"{self.base}/orphan/{j}" for j in range(ORPHANS)]
        sections = [f"{self.base}/section/{s}" for s in range(SECTIONS)]
        self._sitemap("/sitemap-orphans.xml", sitemap(orphans), "both")
        self._sitemap("/sitemap-sections.xml", sitemap(sections), "etag")
        index = [f"{self.base}/sitemap-sections.xml", f"{self.base}/sitemap-orphans.xml"]
        self._sitemap("/sitemap_index.xml", sitemap(index, index=True), "modified")

    def _sitemap(self, path: str, body: bytes, kind: str) -> None:
        self.pages[path] = Page([], kind, content_type="application/xml", body=body)

    @property
    def page_uris(self) -> set[str]:
        return {self.base + path for path, page in self.pages.items() if page.body is None}

    def change(self, path: str, *, add_link: str | None = None) -> None:
        with self.lock:
            page = self.pages[path]
            page.version += 1
            if add_link is not None:
                page.links.append(add_link)

    def add(self, path: str, links: list[str] | None = None) -> None:
        with self.lock:
            self.pages[path] = Page(links or [], "both")

    def remove(self, path: str) -> None:
        with self.lock:
            del self.pages[path]

    def requests(self) -> list[Hit]:
        with self.lock:
            return list(self.hits)

    def clear(self) -> None:
        with self.lock:
            self.hits.clear()


def html(path: str, page: Page) -> bytes:
    anchors = "".join(f'<li><a href="{link}">{link}</a></li>' for link in page.links)
    return (
        f"<!doctype html><html><head><title>{path} v{page.version}</title></head><body>"
        f"<h1>{path}</h1><p>Version {page.version} of {path}. {'Some text. ' * 10}</p>"
        f"<ul>{anchors}</ul></body></html>"
    ).encode()


def _not_modified(page: Page, if_none_match: str | None, if_modified_since: str | None) -> bool:
    if if_none_match is not None and page.etag is not None:
        return if_none_match == page.etag
    if if_modified_since is not None and page.last_modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        return parsedate_to_datetime(page.last_modified) <= since
    return False


class Handler(QuietHandler):
    server: ConditionalServer

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        site = self.server.site
        path = urlsplit(self.path).path
        inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        with site.lock:
            page = site.pages.get(path)
            failing = site.failing.get(path)
            if failing is not None:
                status = failing
            elif path == "/robots.txt":
                status = 200
            elif page is None:
                status = 404
            elif _not_modified(page, inm, ims):
                status = 304
            else:
                status = 200
            site.hits.append(Hit(path, inm, ims, status))
            body = b""
            if path == "/robots.txt" and status == 200:
                body = b"User-agent: *\nAllow: /\n"
            elif page is not None and status == 200:
                body = page.body if page.body is not None else html(path, page)
        headers: dict[str, str] = {}
        if page is not None and status in (200, 304):
            if page.etag:
                headers["ETag"] = page.etag
            if page.last_modified:
                headers["Last-Modified"] = page.last_modified
        content_type = "text/plain" if path == "/robots.txt" else "text/html"
        if page is not None:
            content_type = page.content_type
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)


class ConditionalServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, site: ConditionalSite) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.site = site
        site.base = f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@contextmanager
def serving() -> Iterator[ConditionalSite]:
    site = ConditionalSite()
    server = ConditionalServer(site)
    site.build()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
