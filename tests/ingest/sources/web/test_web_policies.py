"""Robots rules, retry timing, the private-address test, body decoding, and the mapping of
every foreign error to the web error tree."""

from __future__ import annotations

import asyncio
import ipaddress
import pickle
import socket
import zlib
from datetime import UTC, datetime

import httpx
import pytest

from ingest.errors import IngestError, ItemTooLargeError, SourceAccessError
from ingest.sources.web import errors as web_errors
from ingest.sources.web.addresses import AddressGuard, non_public_reason
from ingest.sources.web.bodies import read_body
from ingest.sources.web.errors import map_exception
from ingest.sources.web.hosts import HostLimiter
from ingest.sources.web.retry import backoff_delay, parse_retry_after
from ingest.sources.web.robots import RobotsResponse, rules_for_response

AGENT = "aichemist-ingest"


def test_robots_rules() -> None:
    body = (
        b"User-agent: other\nDisallow: /\n\n"
        b"User-agent: *\nDisallow: /private/\nAllow: /private/ok\nDisallow: /*.pdf$\n"
        b"Crawl-delay: 1.5\nSitemap: http://e.com/sitemap.xml\n"
    )
    rules = rules_for_response("http://e.com", RobotsResponse(200, body), AGENT)
    assert rules.refusal("http://e.com/page", AGENT) is None
    assert rules.refusal("http://e.com/private/x", AGENT) == "disallowed by robots.txt"
    assert rules.refusal("http://e.com/private/ok", AGENT) is None
    assert rules.refusal("http://e.com/a.pdf", AGENT) is not None
    assert rules.refusal("http://e.com/a.pdf?x", AGENT) is None
    assert rules.crawl_delay == 1.5
    assert rules.sitemaps == ["http://e.com/sitemap.xml"]
    assert (
        rules_for_response("http://e.com", RobotsResponse(404, b""), AGENT).refusal(
            "http://e.com/x", AGENT
        )
        is None
    )
    assert (
        rules_for_response("http://e.com", RobotsResponse(503, b""), AGENT).refusal(
            "http://e.com/x", AGENT
        )
        is not None
    )


def test_backoff_has_full_jitter_and_a_cap() -> None:
    assert backoff_delay(0, 0.5, 30, rand=1.0) == 0.5
    assert backoff_delay(3, 0.5, 30, rand=1.0) == 4.0
    assert backoff_delay(10, 0.5, 30, rand=1.0) == 30
    assert backoff_delay(3, 0.5, 30, rand=0.0) == 0.0
    assert all(0 <= backoff_delay(2, 0.5, 30) <= 2.0 for _ in range(100))


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "not-global"),
        ("::ffff:127.0.0.1", "loopback"),
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
    ],
)
def test_non_public_addresses(address: str, kind: str | None) -> None:
    reason = non_public_reason(ipaddress.ip_address(address))
    assert reason == kind


def test_guard_resolves_names_before_judging() -> None:
    async def main() -> None:
        guard = AddressGuard(allow_private_network=False)
        with pytest.raises(web_errors.PrivateAddressError, match="localhost"):
            await guard.check("http://localhost/", "localhost", 80)
        await guard.check("http://8.8.8.8/", "8.8.8.8", 80)
        await AddressGuard(allow_private_network=True).check("http://x/", "127.0.0.1", 80)

    asyncio.run(main())


def test_host_limiter_spaces_starts_and_honours_defer() -> None:
    async def main() -> list[float]:
        limiter = HostLimiter(concurrency=4, delay=0.03)
        starts: list[float] = []

        async def one() -> None:
            async with limiter.slot("http://h"):
                starts.append(asyncio.get_running_loop().time())

        limiter.defer("http://h", 0.1)
        begun = asyncio.get_running_loop().time()
        await asyncio.gather(*(one() for _ in range(4)))
        return [begun, *starts]

    begun, *starts = asyncio.run(main())
    assert starts[0] - begun >= 0.09
    assert all(b - a >= 0.025 for a, b in zip(starts, starts[1:], strict=False))


async def _body(raw: bytes, encoding: str, cap: int) -> bytes:
    response = httpx.Response(
        200, headers={"Content-Encoding": encoding}, stream=httpx.ByteStream(raw)
    )
    return await read_body(response, "http://e.com/x", cap)


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS, 16 + zlib.MAX_WBITS])
def test_bodies_decode_each_encoding(wbits: int) -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    raw = compressor.compress(b"hello " * 1000) + compressor.flush()
    encoding = "gzip" if wbits > zlib.MAX_WBITS else "deflate"
    assert asyncio.run(_body(raw, encoding, 1 << 20)) == b"hello " * 1000
    with pytest.raises(web_errors.ResponseTooLargeError):
        asyncio.run(_body(raw, encoding, 100))


def test_bodies_refuse_unknown_or_corrupt_encodings() -> None:
    with pytest.raises(web_errors.ContentDecodingError, match="unsupported"):
        asyncio.run(_body(b"x", "br", 100))
    with pytest.raises(web_errors.ContentDecodingError, match="corrupt"):
        asyncio.run(_body(b"not gzip at all", "gzip", 100))


# -- the error mapping ---------------------------------------------------------------------

URL = "http://e.com/x"
REQUEST = httpx.Request("GET", URL)
E = web_errors

#: Every exception class httpx exports, and what it must become.
EXPECTED: dict[type[Exception], tuple[type[SourceAccessError], bool]] = {
    httpx.ConnectTimeout: (E.FetchTimeoutError, True),
    httpx.ReadTimeout: (E.FetchTimeoutError, True),
    httpx.WriteTimeout: (E.FetchTimeoutError, True),
    httpx.PoolTimeout: (E.FetchTimeoutError, True),
    httpx.TimeoutException: (E.FetchTimeoutError, True),
    httpx.ConnectError: (E.FetchConnectionError, True),
    httpx.ReadError: (E.FetchConnectionError, True),
    httpx.WriteError: (E.FetchConnectionError, True),
    httpx.CloseError: (E.FetchConnectionError, True),
    httpx.NetworkError: (E.FetchConnectionError, True),
    httpx.RemoteProtocolError: (E.FetchConnectionError, True),
    httpx.ProtocolError: (E.FetchConnectionError, True),
    httpx.ProxyError: (E.FetchConnectionError, True),
    httpx.TransportError: (E.FetchConnectionError, True),
    httpx.LocalProtocolError: (E.FetchConnectionError, False),
    httpx.UnsupportedProtocol: (E.InvalidUrlError, False),
    httpx.InvalidURL: (E.InvalidUrlError, False),
    httpx.DecodingError: (E.ContentDecodingError, False),
    httpx.TooManyRedirects: (E.TooManyRedirectsError, False),
    httpx.HTTPStatusError: (E.PageGoneError, False),
    httpx.RequestError: (E.WebFetchError, False),
    httpx.HTTPError: (E.WebFetchError, False),
    httpx.StreamError: (E.WebFetchError, False),
    httpx.StreamConsumed: (E.WebFetchError, False),
    httpx.StreamClosed: (E.WebFetchError, False),
    httpx.ResponseNotRead: (E.WebFetchError, False),
    httpx.RequestNotRead: (E.WebFetchError, False),
    httpx.CookieConflict: (E.WebFetchError, False),
}


def _instance(cls: type[Exception]) -> Exception:
    if cls is httpx.HTTPStatusError:
        return cls("404", request=REQUEST, response=httpx.Response(404, request=REQUEST))
    if issubclass(cls, httpx.StreamError):
        return cls() if cls is not httpx.StreamError else cls("stream")
    if issubclass(cls, httpx.RequestError):
        return cls("boom", request=REQUEST)
    return cls("boom")


def test_every_httpx_exception_is_mapped() -> None:
    exported = {
        obj
        for name in httpx.__all__
        if isinstance(obj := getattr(httpx, name), type) and issubclass(obj, Exception)
    }
    assert exported == set(EXPECTED), exported ^ set(EXPECTED)
    for cls, (expected, retryable) in EXPECTED.items():
        mapped = map_exception(_instance(cls), URL)
        assert type(mapped) is expected, cls
        assert mapped.retryable is retryable, cls
        assert mapped.uri == URL
        assert mapped.stage == "fetch"
        assert URL in str(mapped)


@pytest.mark.parametrize(
    ("exc", "expected", "retryable"),
    [
        (TimeoutError(), E.FetchTimeoutError, True),
        (ConnectionResetError(104, "reset"), E.FetchConnectionError, True),
        (
            socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            E.NameResolutionError,
            False,
        ),
        (socket.gaierror(socket.EAI_AGAIN, "Temporary failure"), E.NameResolutionError, True),
        (ValueError("odd"), E.WebFetchError, False),
    ],
)
def test_other_foreign_errors_are_mapped(
    exc: Exception, expected: type[SourceAccessError], retryable: bool
) -> None:
    mapped = map_exception(exc, URL)
    assert type(mapped) is expected
    assert mapped.retryable is retryable
    assert mapped.uri == URL


def test_gaierror_inside_connect_error_is_a_dns_error() -> None:
    outer = httpx.ConnectError("dns", request=REQUEST)
    outer.__cause__ = socket.gaierror(socket.EAI_NONAME, "unknown")
    assert type(map_exception(outer, URL)) is E.NameResolutionError


def test_aiohttp_errors_under_httpx_aiohttp_are_mapped_by_cause() -> None:
    aiohttp = pytest.importorskip("aiohttp")
    reset = httpx.ConnectTimeout("mapped by httpx-aiohttp")
    reset.__cause__ = aiohttp.ServerDisconnectedError()
    assert type(map_exception(reset, URL)) is E.FetchConnectionError
    slow = httpx.ConnectTimeout("mapped by httpx-aiohttp")
    slow.__cause__ = aiohttp.ConnectionTimeoutError()
    assert type(map_exception(slow, URL)) is E.FetchTimeoutError
    dns = httpx.ConnectError("mapped by httpx-aiohttp")
    dns.__cause__ = aiohttp.ClientConnectionError("dns")
    dns.__cause__.__cause__ = socket.gaierror(socket.EAI_NONAME, "unknown")
    assert type(map_exception(dns, URL)) is E.NameResolutionError


def test_http_status_retryable_by_code() -> None:
    for status, retryable in [
        (404, False),
        (410, False),
        (403, False),
        (408, True),
        (429, True),
        (500, True),
        (503, True),
        (599, True),
    ]:
        assert E.HttpStatusError("x", uri=URL, status=status).retryable is retryable


@pytest.mark.parametrize(
    "error",
    [
        E.HttpStatusError("HTTP 503", uri=URL, status=503, details={"retry_after": 1.0}),
        E.FetchTimeoutError("slow", uri=URL),
        E.BlockedByRobotsError("no", uri=URL),
        E.ResponseTooLargeError("big", uri=URL, details={"max_bytes": 5}),
    ],
)
def test_web_errors_pickle_and_belong_to_the_tree(error: SourceAccessError) -> None:
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error)
    assert again.retryable is error.retryable
    assert again.details == error.details
    assert isinstance(again, IngestError)
    assert again.stage == "fetch"
    if isinstance(error, E.ResponseTooLargeError):
        assert isinstance(again, ItemTooLargeError)
