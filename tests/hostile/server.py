"""A hostile HTTP server on 127.0.0.1: raw asyncio sockets in a background thread, so that
it can break HTTP on purpose (slowloris, endless or huge headers, lying Content-Length,
truncated chunks, compression bombs, redirect tricks, 429/5xx storms, huge sitemaps and
robots.txt, infinite link generators), optionally over TLS with a self-signed certificate.

Nothing is ever held whole in memory: large bodies are generated as they are written.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
import tempfile
import threading
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

#: Planted in URL user info and in a Set-Cookie header: must appear nowhere we write.
SENTINEL = "HOSTILE-SENTINEL-8c41e7"
HOST = "127.0.0.1"
GIB = 1 << 30

Route = Callable[["Conn"], Awaitable[None]]


@dataclass
class Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    path: str
    query: str
    count: int
    headers: dict[str, str]
    server: HostileServer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def respond(
        self, status: int, body: bytes = b"", content_type: str = "text/html", **headers: str
    ) -> None:
        lines = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}"]
        lines.append(f"Content-Length: {len(body)}")
        lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
        await self.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    async def redirect(self, location: str, status: int = 302) -> None:
        await self.respond(status, Location=location)


def page(title: str, links: list[str] = (), body: str = "") -> bytes:  # type: ignore[assignment]
    anchors = "".join(f'<a href="{href}">{href}</a> ' for href in links)
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f"<p>{body or 'Some words about ' + title + '.'}</p><p>{anchors}</p></body></html>"
    ).encode()


# -- routes ---------------------------------------------------------------------------------


async def ok(conn: Conn) -> None:
    await conn.respond(200, page(f"ok {conn.path}"))


async def slowloris_headers(conn: Conn) -> None:
    await conn.send(b"HTTP/1.1 200 OK\r\n")
    while not conn.server.stopping:
        await conn.send(b"X")  # one byte of a header that never ends, forever
        await asyncio.sleep(0.05)


async def slowloris_body(conn: Conn) -> None:
    await conn.send(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000000\r\n\r\n"
    )
    while not conn.server.stopping:
        await conn.send(b"<")
        await asyncio.sleep(0.05)


async def endless_headers(conn: Conn) -> None:
    await conn.send(b"HTTP/1.1 200 OK\r\n")
    n = 0
    while not conn.server.stopping and n < 2_000_000:
        await conn.send(b"".join(b"X-Pad-%d: %s\r\n" % (n + i, b"v" * 40) for i in range(100)))
        n += 100


async def huge_header(conn: Conn) -> None:
    await conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Huge: ")
    for _ in range(64):  # 16 MB in one header line
        if conn.server.stopping:
            return
        await conn.send(b"h" * (256 * 1024))
    await conn.send(b"\r\nContent-Length: 2\r\n\r\nhi")


async def short_body(conn: Conn) -> None:
    await conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
    await conn.send(page("short")[:60])
    conn.writer.close()


async def long_body(conn: Conn) -> None:
    body = page("long body")
    await conn.send(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\n" + body
    )


async def bad_length(conn: Conn) -> None:
    await conn.send(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: -5\r\n\r\nhello"
    )


async def truncated_chunked(conn: Conn) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = page("chunked")
    await conn.send(head + b"%x\r\n%s\r\n" % (len(chunk), chunk) + b"400\r\nonly part")
    conn.writer.close()


async def bad_chunk_size(conn: Conn) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
    await conn.send(head + b"zz\r\nnot hex\r\n0\r\n\r\n")


_ZEROS = bytes(1 << 20)


def _deflate_blocks(wbits: int) -> tuple[bytes, bytes]:
    """A stream head and a block that, repeated, inflate to 1 MiB of zeros each: after a
    full flush the compressor starts afresh, so every block compresses the same."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    head = compressor.compress(_ZEROS) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(_ZEROS) + compressor.flush(zlib.Z_FULL_FLUSH)
    return head, block


async def _bomb(conn: Conn, encoding: str, wbits: int, declare: bool) -> None:
    head, block = _deflate_blocks(wbits)
    blocks = GIB >> 20
    length = len(head) + (blocks - 1) * len(block)
    headers = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
    headers += f"Content-Encoding: {encoding}\r\n"
    headers += f"Content-Length: {length}\r\n" if declare else "Connection: close\r\n"
    await conn.send(headers.encode() + b"\r\n" + head)
    for _ in range(blocks - 1):
        if conn.server.stopping:
            return
        await conn.send(block)
    conn.writer.close()


async def gzip_bomb(conn: Conn) -> None:
    await _bomb(conn, "gzip", 16 + zlib.MAX_WBITS, declare=True)


async def deflate_bomb(conn: Conn) -> None:
    await _bomb(conn, "deflate", zlib.MAX_WBITS, declare=False)


def brotli_bomb_bytes() -> bytes:
    """About 1 GiB of zeros as brotli (brotli's 16 MiB window makes it a few hundred KB
    for 1 GiB); without the brotli package, bytes that only claim to be brotli."""
    try:
        import brotli  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        return b"\x1b\xff\xff\x7f" + bytes(64)
    compressor = brotli.Compressor(quality=1)
    parts = [compressor.process(_ZEROS) for _ in range(256)]
    parts.append(compressor.finish())
    return b"".join(parts)


_BROTLI: list[bytes] = []


async def brotli_bomb(conn: Conn) -> None:
    if not _BROTLI:
        _BROTLI.append(brotli_bomb_bytes())
    await conn.respond(200, _BROTLI[0], Content_Encoding="br")


async def gzip_garbage(conn: Conn) -> None:
    await conn.respond(
        200, b"\x1f\x8b\x08\x00garbage that is not deflate" * 10, Content_Encoding="gzip"
    )


async def redirect_chain(conn: Conn) -> None:
    n = int(conn.path.rsplit("/", 1)[1] or 0)
    if n <= 0:
        await ok(conn)
    else:
        await conn.redirect(f"/redirect-chain/{n - 1}")


async def loop_a(conn: Conn) -> None:
    await conn.redirect("/loop/b", 301)


async def loop_b(conn: Conn) -> None:
    await conn.redirect("/loop/a", 307)


async def self_redirect(conn: Conn) -> None:
    await conn.redirect(conn.path)


def _to(location: str) -> Route:
    async def route(conn: Conn) -> None:
        await conn.redirect(location)

    return route


async def no_location(conn: Conn) -> None:
    await conn.respond(302)


async def storm(conn: Conn) -> None:
    status = int(conn.path.rsplit("/", 1)[1])
    extra = {"Retry_After": "0"} if status in (429, 503) else {}
    await conn.respond(status, b"<html>storm</html>", **extra)


async def retry_after_huge(conn: Conn) -> None:
    await conn.respond(429, b"later", Retry_After="86400")


async def reset(conn: Conn) -> None:
    conn.writer.transport.abort()


async def garbage_status(conn: Conn) -> None:
    await conn.send(b"HTTP/1.1 banana\r\n\r\n")
    conn.writer.close()


async def not_http(conn: Conn) -> None:
    await conn.send(b"SSH-2.0-OpenSSH_9.0\r\n" + bytes(range(256)))
    conn.writer.close()


async def changing(conn: Conn) -> None:
    await conn.respond(200, page("changing", body=f"version {conn.count} of this page"))


async def infinite(conn: Conn) -> None:
    n = int(conn.path.rsplit("/", 1)[1])
    links = [f"/infinite/{n * 10 + k}" for k in range(1, 11)] + [f"/infinite/{n}?v={conn.count}"]
    await conn.respond(200, page(f"infinite {n}", links))


async def robots(conn: Conn) -> None:
    mode = conn.server.robots
    if mode == "huge":
        await conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
        line = b"User-agent: *\nDisallow: /nothing-" + b"x" * 200 + b"\n"
        for _ in range(200_000):  # about 45 MB
            if conn.server.stopping:
                return
            await conn.send(line * 10)
        conn.writer.close()
    elif mode == "malformed":
        body = b"\xff\xfe\x00garbage\nDisallow /x\nUser-agent\n:::\n"
        body += b"\x00\x01Allow: \nCrawl-delay: -9e999\nUser-agent: *\nDisallow: /ok/1.html\n"
        await conn.respond(200, body * 100, "text/plain")
    elif mode == "html":
        await conn.respond(200, b"<html><body>Not a robots file</body></html>")
    elif mode == "error":
        await conn.respond(500, b"broken")
    else:
        await conn.respond(404, b"none")


async def sitemap_million(conn: Conn) -> None:
    base = conn.server.base
    await conn.send(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nConnection: close\r\n\r\n"
    )
    await conn.send(
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    )
    for start in range(0, 1_000_000, 1000):
        if conn.server.stopping:
            return
        await conn.send(
            "".join(
                f"<url><loc>{base}/ok/{i}.html</loc></url>" for i in range(start, start + 1000)
            ).encode()
        )
    await conn.send(b"</urlset>")
    conn.writer.close()


async def secret_page(conn: Conn) -> None:
    body = page("secret", ["/ok/2.html"])
    await conn.respond(200, body, Set_Cookie=f"session={SENTINEL}; HttpOnly", X_Token=SENTINEL)


async def attribute_bomb(conn: Conn) -> None:
    attributes = " ".join(f'a{i}="x"' for i in range(30_000))
    await conn.respond(200, f"<html><body><div {attributes}>x</div></body></html>".encode())


async def index(conn: Conn) -> None:
    await conn.respond(200, page("index", conn.server.index_links))


ROUTES: dict[str, Route] = {
    "/robots.txt": robots,
    "/index.html": index,
    "/slowloris-headers": slowloris_headers,
    "/slowloris-body": slowloris_body,
    "/endless-headers": endless_headers,
    "/huge-header": huge_header,
    "/short-body": short_body,
    "/long-body": long_body,
    "/bad-length": bad_length,
    "/truncated-chunked": truncated_chunked,
    "/bad-chunk-size": bad_chunk_size,
    "/gzip-bomb": gzip_bomb,
    "/deflate-bomb": deflate_bomb,
    "/brotli-bomb": brotli_bomb,
    "/gzip-garbage": gzip_garbage,
    "/loop/a": loop_a,
    "/loop/b": loop_b,
    "/self-redirect": self_redirect,
    "/to-ftp": _to("ftp://127.0.0.1/file.txt"),
    "/to-file": _to("file:///etc/passwd"),
    "/to-javascript": _to("javascript:alert(1)"),
    "/to-data": _to("data:text/html,<h1>hi</h1>"),
    "/to-malformed": _to("http://[127.0.0.1/broken"),
    "/no-location": no_location,
    "/retry-after-huge": retry_after_huge,
    "/reset": reset,
    "/garbage-status": garbage_status,
    "/not-http": not_http,
    "/changing": changing,
    "/sitemap-million.xml": sitemap_million,
    "/secret.html": secret_page,
    "/attribute-bomb.html": attribute_bomb,
}
PREFIXES: dict[str, Route] = {
    "/redirect-chain/": redirect_chain,
    "/storm/": storm,
    "/infinite/": infinite,
    "/ok/": ok,
}


def _route(path: str) -> Route | None:
    if path in ROUTES:
        return ROUTES[path]
    for prefix, route in PREFIXES.items():
        if path.startswith(prefix):
            return route
    return None


@dataclass
class HostileServer:
    """`with HostileServer() as server:` serves on `server.base` (http or https)."""

    tls: bool = False
    robots: str = "none"
    index_links: list[str] = field(default_factory=list)
    hits: Counter[str] = field(default_factory=Counter)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    stopping: bool = False
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}"

    def __enter__(self) -> HostileServer:
        self._thread = threading.Thread(target=self._run, name="hostile-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the hostile server did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        context = _self_signed_context() if self.tls else None
        server = loop.run_until_complete(
            asyncio.start_server(self._serve, HOST, 0, ssl=context, limit=1 << 16)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while not self.stopping:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                    return
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                parts = request_line.split(" ")
                if len(parts) != 3:
                    return
                target = urlsplit(parts[1])
                headers = {}
                for line in header_lines:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                with self._lock:
                    self.hits[target.path] += 1
                    count = self.hits[target.path]
                    self.requests.append((parts[1], headers))
                route = _route(target.path)
                conn = Conn(reader, writer, target.path, target.query, count, headers, self)
                if route is None:
                    await conn.respond(404, b"not found")
                else:
                    await route(conn)
                if writer.is_closing():
                    return
        except (ConnectionError, ssl.SSLError, OSError, asyncio.CancelledError):
            return  # a cancelled connection ends quietly when the server stops
        finally:
            writer.close()


_CERT: list[tuple[str, str]] = []


def _self_signed_context() -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1."""
    if not _CERT:
        _CERT.append(_make_cert())
    cert, key = _CERT[0]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def _make_cert() -> tuple[str, str]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder = Path(tempfile.mkdtemp(prefix="hostile-tls-"))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)
