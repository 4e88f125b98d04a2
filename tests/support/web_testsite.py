"""A generated web site with fault endpoints, served on 127.0.0.1 from a background thread,
that records every request it receives (time, path, headers) for the web source tests."""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.support.quiet_handler import QuietHandler

PAGES = 300
ORPHANS = 20
GIB = 1 << 30
BOMB_DECODED = 64 << 20

ROBOTS = """User-agent: *
Disallow: /private/
Allow: /private/open.html
Disallow: /*.secret$
"""


@dataclass(frozen=True)
class Hit:
    at: float
    path: str
    headers: dict[str, str]


@dataclass
class SiteState:
    pages: int = PAGES
    robots: str = ROBOTS
    hits: list[Hit] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    base: str = ""
    overrides: dict[str, tuple[int, bytes]] = field(default_factory=dict)

    def paths(self) -> list[str]:
        with self.lock:
            return [hit.path for hit in self.hits]

    def times(self, prefix: str = "/") -> list[float]:
        with self.lock:
            return [hit.at for hit in self.hits if hit.path.startswith(prefix)]


def page_html(i: int, pages: int, base: str) -> str:
    links = [
        f"/page/{(i + 1) % pages}.html",
        f"/page/{(2 * i + 1) % pages}.html",
        f"../page/{(i + 7) % pages}.html#section-{i}",
        f"/private/{i}.html",
        f"/files/{i}.secret",
        "mailto:someone@example.invalid",
        "javascript:void(0)",
        "http://example.invalid/elsewhere",
        "#top",
    ]
    if i % 10 == 0:
        # Same page, other spellings: upper-case scheme and host, escaped unreserved bytes.
        links.append(base.upper() + f"/page/%7E{i}/../{i}.html")
        links.append("/search?b=2&a=1")
        links.append("/search?a=1&b=2")
        links.append("/private/open.html")
        links.append("/based.html")
        links.append("/canon.html?ref=feed")
    anchors = "".join(f'<li><a href="{href}">link {n}</a></li>' for n, href in enumerate(links))
    return (
        f"<!doctype html><html><head><title>Page {i}</title></head><body>"
        f"<h1>Page {i}</h1><p>{'Lorem ipsum dolor sit amet. ' * 20}</p>"
        f"<ul>{anchors}</ul></body></html>"
    )


def sitemap(urls: list[str], index: bool = False) -> bytes:
    tag, entry = ("sitemapindex", "sitemap") if index else ("urlset", "url")
    body = "".join(f"<{entry}><loc>{url}</loc></{entry}>" for url in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<{tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</{tag}>'
    ).encode()


_BOMB: list[bytes] = []


def gzip_bomb() -> bytes:
    if not _BOMB:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        block = bytes(1 << 20)
        parts = [compressor.compress(block) for _ in range(BOMB_DECODED >> 20)]
        parts.append(compressor.flush())
        _BOMB.append(b"".join(parts))
    return _BOMB[0]


def expected_pages(base: str, pages: int = PAGES) -> set[str]:
    """Every page URI a full crawl of the site must record (normalised, sorted query)."""
    uris = {f"{base}/page/{i}.html" for i in range(pages)}
    uris |= {f"{base}/orphan/{j}.html" for j in range(ORPHANS)}
    uris |= {f"{base}/private/open.html", f"{base}/search?a=1&b=2", f"{base}/based.html"}
    uris.add(f"{base}/page/sub/3.html")
    return uris


class Handler(QuietHandler):
    server: SiteServer

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        state = self.server.state
        with state.lock:
            headers = {name.lower(): value for name, value in self.headers.items()}
            state.hits.append(Hit(time.monotonic(), self.path, headers))
            state.counters[self.path] += 1
            count = state.counters[self.path]
        path = urlsplit(self.path).path
        route = ROUTES.get(path)
        try:
            if path in state.overrides:
                status, body = state.overrides[path]
                self.send(status, body)
            elif route is not None:
                route(self, count)
            else:
                self.dynamic(path, count)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def dynamic(self, path: str, count: int) -> None:
        state = self.server.state
        parts = path.strip("/").split("/")
        if parts[0] == "page" and len(parts) == 2 and parts[1].endswith(".html"):
            number = parts[1][: -len(".html")]
            if number.isdigit() and int(number) < state.pages:
                self.send(200, page_html(int(number), state.pages, state.base).encode())
                return
        if parts[0] in ("orphan", "private", "files", "search") or path == "/page/sub/3.html":
            self.send(200, f"<html><body><p>{path}</p></body></html>".encode())
            return
        if parts[0] == "trap" and len(parts) == 3:
            year, month = int(parts[1]), int(parts[2])
            nxt = (year + month // 12, month % 12 + 1)
            prv = (year - (month == 1), (month - 2) % 12 + 1)
            body = (
                f'<html><body><a href="/trap/{nxt[0]}/{nxt[1]}">next</a>'
                f'<a href="/trap/{prv[0]}/{prv[1]}">previous</a></body></html>'
            )
            self.send(200, body.encode())
            return
        if parts[0] == "flaky":
            if count <= 2:
                self.send(503, b"busy")
            else:
                self.send(200, b"<html><body>finally</body></html>")
            return
        if parts[0] == "limited":
            if count == 1:
                self.send(429, b"slow down", Retry_After="1")
            else:
                self.send(200, b"<html><body>thanks for waiting</body></html>")
            return
        if parts[0] == "redirect" and len(parts) == 2 and parts[1].isdigit():
            n = int(parts[1])
            if n == 0:
                self.send(200, b"<html><body>arrived</body></html>")
            else:
                self.send(302, Location=f"/redirect/{n - 1}")
            return
        self.send(404, b"not found")

    # -- fixed routes ---------------------------------------------------------------------

    def robots(self, count: int) -> None:
        self.send(200, self.server.state.robots.encode(), "text/plain")

    def sitemap_index(self, count: int) -> None:
        base = self.server.state.base
        urls = [f"{base}/sitemap-pages.xml", f"{base}/sitemap-orphans.xml.gz"]
        self.send(200, sitemap(urls, index=True), "application/xml")

    def sitemap_pages(self, count: int) -> None:
        base = self.server.state.base
        urls = [f"{base}/page/{i}.html" for i in range(0, 10)] + [f"{base}/private/9.html"]
        self.send(200, sitemap(urls), "application/xml")

    def sitemap_orphans(self, count: int) -> None:
        base = self.server.state.base
        body = gzip.compress(sitemap([f"{base}/orphan/{j}.html" for j in range(ORPHANS)]))
        self.send(200, body, "application/gzip")

    def based(self, count: int) -> None:
        body = (
            b'<html><head><base href="/page/sub/"></head><body><a href="3.html">3</a></body></html>'
        )
        self.send(200, body)

    def canon(self, count: int) -> None:
        base = self.server.state.base
        body = f'<html><head><link rel="canonical" href="{base}/page/5.html"></head></html>'
        self.send(200, body.encode())

    def hang(self, count: int) -> None:
        started = time.monotonic()
        while not self.server.state.stop.is_set() and time.monotonic() - started < 10:
            time.sleep(0.02)

    def loop_a(self, count: int) -> None:
        self.send(302, Location="/loop/b")

    def loop_b(self, count: int) -> None:
        self.send(301, Location="/loop/a")

    def huge_declared(self, count: int) -> None:
        self.stream(GIB, declare=True)

    def huge_stream(self, count: int) -> None:
        self.stream(GIB, declare=False)

    def stream(self, size: int, *, declare: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if declare:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        block = b"x" * 65536
        sent = 0
        while sent < size and not self.server.state.stop.is_set():
            self.wfile.write(block)  # lazily: never more than one block in memory
            sent += len(block)

    def bomb(self, count: int) -> None:
        self.send(200, gzip_bomb(), "text/html", Content_Encoding="gzip")

    def binary(self, count: int) -> None:
        self.send(200, bytes(range(256)) * 16, "text/html")

    def etag(self, count: int) -> None:
        tag, modified = '"v1"', "Wed, 01 Jan 2025 00:00:00 GMT"
        if self.headers.get("If-None-Match") == tag:
            self.send_response(304)
            self.send_header("ETag", tag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send(200, b"<html><body>versioned</body></html>", ETag=tag, Last_Modified=modified)

    def modified(self, count: int) -> None:
        modified = "Wed, 01 Jan 2025 00:00:00 GMT"
        if self.headers.get("If-Modified-Since") == modified:
            self.send_response(304)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send(200, b"<html><body>dated</body></html>", Last_Modified=modified)

    def secret_header(self, count: int) -> None:
        self.send(200, b"<html></html>", Set_Cookie="session=hunter2", X_Robots_Tag="noarchive")


ROUTES = {
    "/robots.txt": Handler.robots,
    "/sitemap_index.xml": Handler.sitemap_index,
    "/sitemap-pages.xml": Handler.sitemap_pages,
    "/sitemap-orphans.xml.gz": Handler.sitemap_orphans,
    "/based.html": Handler.based,
    "/canon.html": Handler.canon,
    "/hang": Handler.hang,
    "/loop/a": Handler.loop_a,
    "/loop/b": Handler.loop_b,
    "/huge-declared": Handler.huge_declared,
    "/huge-stream": Handler.huge_stream,
    "/bomb.html": Handler.bomb,
    "/binary.html": Handler.binary,
    "/etag.html": Handler.etag,
    "/modified.html": Handler.modified,
    "/cookie.html": Handler.secret_header,
}


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, state: SiteState) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state
        state.base = f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up on purpose (size caps, timeouts) are expected


def start(state: SiteState | None = None) -> tuple[SiteServer, threading.Thread]:
    server = SiteServer(state or SiteState())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    return server, thread


def stop(server: SiteServer, thread: threading.Thread) -> None:
    server.state.stop.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
