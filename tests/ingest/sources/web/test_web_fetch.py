"""`Crawler.fetch` against the real local server: retries, Retry-After, redirects, caps,
conditional requests and the headers it keeps; hops re-checked with a mock transport."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest

from ingest.errors import ItemTooLargeError, SourceAccessError
from ingest.sources.web import (
    BlockedByRobotsError,
    Crawler,
    FetchConnectionError,
    FetchTimeoutError,
    HttpStatusError,
    OutOfScopeError,
    PrivateAddressError,
    RedirectLoopError,
    ResponseTooLargeError,
    Scope,
    TooManyRedirectsError,
    WebSourceConfig,
)
from tests.support.web_helpers import config, fetch
from tests.support.web_testsite import BOMB_DECODED, SiteState


def test_fetch_result_fields(site: SiteState) -> None:
    result = fetch(config([site.base]), f"{site.base}/page/3.html#frag")
    assert result.status == 200
    assert result.url == result.final_url == f"{site.base}/page/3.html"
    assert result.content_type == "text/html"
    assert result.charset == "utf-8"
    assert b"Page 3" in result.body
    assert result.not_modified is False
    assert result.redirects == ()
    assert result.attempts == 1
    assert result.elapsed > 0
    assert site.paths() == ["/robots.txt", "/page/3.html"]
    ua = [hit.headers["user-agent"] for hit in site.hits]
    assert all(agent.startswith("aichemist-ingest/") for agent in ua)


def test_503_twice_then_200_is_retried(site: SiteState) -> None:
    result = fetch(config([site.base]), f"{site.base}/flaky/a")
    assert result.status == 200
    assert result.attempts == 3
    assert site.paths().count("/flaky/a") == 3


def test_503_beyond_the_retries_is_a_retryable_failure(site: SiteState) -> None:
    with pytest.raises(HttpStatusError) as caught:
        fetch(config([site.base], max_retries=1), f"{site.base}/flaky/b")
    assert caught.value.status == 503
    assert caught.value.retryable
    assert caught.value.uri == f"{site.base}/flaky/b"
    assert caught.value.stage == "fetch"
    assert caught.value.details["attempts"] == 2


def test_429_retry_after_is_waited_for(site: SiteState) -> None:
    result = fetch(config([site.base]), f"{site.base}/limited/a")
    assert result.status == 200
    first, second = site.times("/limited/a")
    assert second - first >= 0.95


def test_retry_after_beyond_the_cap_fails_at_once(site: SiteState) -> None:
    started = time.monotonic()
    with pytest.raises(HttpStatusError) as caught:
        fetch(config([site.base], max_retry_after=0.5), f"{site.base}/limited/b")
    assert caught.value.status == 429
    assert caught.value.retryable
    assert time.monotonic() - started < 0.9


def test_404_is_permanent_and_not_retried(site: SiteState) -> None:
    with pytest.raises(HttpStatusError) as caught:
        fetch(config([site.base]), f"{site.base}/nothing-here")
    assert caught.value.status == 404
    assert not caught.value.retryable
    assert site.paths().count("/nothing-here") == 1
    assert "/nothing-here" in str(caught.value)


def test_timeout_is_reported(site: SiteState) -> None:
    started = time.monotonic()
    with pytest.raises(FetchTimeoutError) as caught:
        fetch(config([site.base], read_timeout=0.2, max_retries=0), f"{site.base}/hang")
    assert caught.value.retryable
    assert time.monotonic() - started < 2
    with pytest.raises(FetchTimeoutError) as caught:
        fetch(config([site.base], request_deadline=0.2, max_retries=0), f"{site.base}/hang")
    assert "deadline" in caught.value.reason


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
def test_connection_refused_is_a_retryable_connection_error(backend: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x"
    cfg = config([url], max_retries=1, http_backend=backend, ignore_robots=True)
    with pytest.raises(FetchConnectionError) as caught:
        fetch(cfg, url)
    assert caught.value.retryable
    assert caught.value.details["attempts"] == 2


def test_redirects_are_followed_by_hand(site: SiteState) -> None:
    result = fetch(config([site.base]), f"{site.base}/redirect/3")
    assert result.final_url == f"{site.base}/redirect/0"
    assert result.redirects == tuple(f"{site.base}/redirect/{n}" for n in (3, 2, 1))
    with pytest.raises(TooManyRedirectsError) as caught:
        fetch(config([site.base], max_redirects=2), f"{site.base}/redirect/3")
    assert not caught.value.retryable
    with pytest.raises(RedirectLoopError):
        fetch(config([site.base]), f"{site.base}/loop/a")
    assert site.paths().count("/loop/a") == 1
    assert site.paths().count("/loop/b") == 1


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
@pytest.mark.parametrize("path", ["/huge-declared", "/huge-stream"])
def test_a_1gb_body_is_cut_at_the_cap(site: SiteState, path: str, backend: str) -> None:
    started = time.monotonic()
    cfg = config([site.base], max_bytes=1 << 20, http_backend=backend)
    with pytest.raises(ResponseTooLargeError) as caught:
        fetch(cfg, f"{site.base}{path}")
    assert isinstance(caught.value, ItemTooLargeError)
    assert not caught.value.retryable
    assert caught.value.details["max_bytes"] == 1 << 20
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
def test_a_gzip_bomb_is_cut_at_the_cap(site: SiteState, backend: str) -> None:
    cfg = config([site.base], max_bytes=1 << 20, http_backend=backend)
    with pytest.raises(ResponseTooLargeError, match="cut while streaming"):
        fetch(cfg, f"{site.base}/bomb.html")
    assert BOMB_DECODED > 60 * (1 << 20)


def test_conditional_requests_get_304(site: SiteState) -> None:
    cfg = config([site.base])
    first = fetch(cfg, f"{site.base}/etag.html")
    assert first.etag == '"v1"'
    assert first.fingerprint == 'etag:"v1"'
    again = fetch(cfg, f"{site.base}/etag.html", etag=first.etag)
    assert again.not_modified
    assert again.status == 304
    assert again.body == b""
    dated = fetch(cfg, f"{site.base}/modified.html")
    assert dated.last_modified is not None
    later = fetch(cfg, f"{site.base}/modified.html", last_modified=dated.last_modified)
    assert later.not_modified
    assert site.hits[-1].headers["if-modified-since"] == dated.last_modified


def test_kept_headers_hold_no_secrets(site: SiteState) -> None:
    result = fetch(config([site.base]), f"{site.base}/cookie.html")
    assert "set-cookie" not in result.headers
    assert result.headers["x-robots-tag"] == "noarchive"


def test_robots_refusal_sends_nothing_to_the_url(site: SiteState) -> None:
    with pytest.raises(BlockedByRobotsError) as caught:
        fetch(config([site.base]), f"{site.base}/private/1.html")
    assert not caught.value.retryable
    assert caught.value.uri == f"{site.base}/private/1.html"
    assert site.paths() == ["/robots.txt"]


def test_loopback_refused_by_default(site: SiteState) -> None:
    with pytest.raises(PrivateAddressError) as caught:
        fetch(config([site.base], allow_private_network=False), f"{site.base}/page/1.html")
    assert caught.value.details["kind"] == "loopback"
    assert site.paths() == []


class Recorder:
    """A mock transport for a public host (no network): what a real server cannot fake."""

    def __init__(self, routes: dict[str, httpx.Response]) -> None:
        self.routes = routes
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        return self.routes.get(request.url.path, httpx.Response(404))


def fetch_mocked(recorder: Recorder, url: str, **options: object) -> None:
    async def main() -> None:
        cfg = WebSourceConfig(seeds=["http://8.8.8.8/"], max_retries=0, **options)  # type: ignore[arg-type]
        transport = httpx.MockTransport(recorder)
        async with Crawler(cfg, scope=Scope(cfg), transport=transport) as crawler:
            await crawler.fetch(url)

    asyncio.run(main())


def test_each_redirect_hop_is_rechecked() -> None:
    recorder = Recorder(
        {
            "/to-private": httpx.Response(302, headers={"Location": "http://10.1.2.3/x"}),
            "/to-other-host": httpx.Response(301, headers={"Location": "http://8.8.4.4/x"}),
            "/to-ftp": httpx.Response(302, headers={"Location": "ftp://8.8.8.8/file"}),
        }
    )
    with pytest.raises(PrivateAddressError):
        fetch_mocked(recorder, "http://8.8.8.8/to-private", allowed_domains=["8.8.8.8", "10.1.2.3"])
    with pytest.raises(OutOfScopeError):
        fetch_mocked(recorder, "http://8.8.8.8/to-other-host")
    with pytest.raises(SourceAccessError, match="unusable URL"):
        fetch_mocked(recorder, "http://8.8.8.8/to-ftp")
    assert all(url.startswith("http://8.8.8.8/") for url in recorder.seen)


def test_robots_unavailable_disallows_the_origin() -> None:
    recorder = Recorder({"/robots.txt": httpx.Response(500)})
    with pytest.raises(BlockedByRobotsError, match="unavailable"):
        fetch_mocked(recorder, "http://8.8.8.8/page")
    assert recorder.seen == ["http://8.8.8.8/robots.txt"]
