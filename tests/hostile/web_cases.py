"""The web cases of the registry: a path on the hostile server and the handling the crawler
must give it (fetch cases), or a crawl with its settings and bounds (crawl cases)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.hostile.cases import Case, Expect, register

#: Fast settings of every hostile web test: short timeouts, one retry, a 1 MiB cap.
FAST: dict[str, Any] = {
    "allow_private_network": True,
    "connect_timeout": 2.0,
    "read_timeout": 0.5,
    "request_deadline": 1.5,
    "max_retries": 1,
    "backoff_base": 0.01,
    "backoff_max": 0.05,
    "max_retry_after": 1.0,
    "max_bytes": 1 << 20,
}


@dataclass(frozen=True)
class WebCase:
    case: Case
    path: str
    settings: dict[str, Any] = field(default_factory=dict)


def _fetch(
    name: str,
    path: str,
    summary: str,
    expect: Expect,
    *,
    seconds: float = 2.0,
    peak_mb: float = 16.0,
    known_failure: str | None = None,
) -> WebCase:
    case = Case(name, "web", "web-fetch", summary, expect, seconds, peak_mb, known_failure)
    return WebCase(case, path)


def _failed(error: str, message: str | None = None) -> Expect:
    return Expect("failed", error, message)


FETCH_CASES: list[WebCase] = [
    _fetch(
        "slowloris-headers",
        "/slowloris-headers",
        "a header line trickled one byte at a time, forever",
        _failed("FetchTimeoutError", "deadline"),
        seconds=4.5,
    ),
    _fetch(
        "slowloris-body",
        "/slowloris-body",
        "a body trickled one byte at a time (under the read timeout)",
        _failed("FetchTimeoutError", "deadline"),
        seconds=4.5,
    ),
    _fetch(
        "endless-headers",
        "/endless-headers",
        "header lines that never end",
        _failed("FetchConnectionError"),
    ),
    _fetch("huge-header", "/huge-header", "a 16 MB header line", _failed("FetchConnectionError")),
    _fetch(
        "content-length-too-long",
        "/short-body",
        "Content-Length 100000, 60 bytes sent, connection closed",
        _failed("FetchConnectionError"),
    ),
    _fetch(
        "content-length-too-short",
        "/long-body",
        "Content-Length 12 before a longer body",
        _failed("FetchConnectionError"),
    ),
    _fetch(
        "content-length-negative",
        "/bad-length",
        "Content-Length: -5",
        _failed("FetchConnectionError"),
    ),
    _fetch(
        "truncated-chunked",
        "/truncated-chunked",
        "a chunked body cut inside a chunk",
        _failed("FetchConnectionError"),
    ),
    _fetch(
        "bad-chunk-size",
        "/bad-chunk-size",
        "a chunk size that is not hex",
        _failed("FetchConnectionError"),
    ),
    _fetch(
        "gzip-bomb-declared",
        "/gzip-bomb",
        "1 GiB of zeros gzipped, Content-Length of the compressed size",
        _failed("ResponseTooLargeError"),
    ),
    _fetch(
        "deflate-bomb-streamed",
        "/deflate-bomb",
        "1 GiB of zeros deflated, no Content-Length",
        _failed("ResponseTooLargeError", "over the cap"),
    ),
    _fetch(
        "brotli-bomb",
        "/brotli-bomb",
        "1/4 GiB of zeros as brotli, never asked for",
        _failed("ContentDecodingError", "unsupported"),
    ),
    _fetch(
        "gzip-garbage",
        "/gzip-garbage",
        "Content-Encoding gzip over bytes that are not",
        _failed("ContentDecodingError", "corrupt"),
    ),
    _fetch(
        "redirect-chain-30",
        "/redirect-chain/30",
        "30 redirects in a row",
        _failed("TooManyRedirectsError"),
    ),
    _fetch("redirect-loop", "/loop/a", "a 301/307 loop of two", _failed("RedirectLoopError")),
    _fetch(
        "redirect-self",
        "/self-redirect",
        "a page redirecting to itself",
        _failed("RedirectLoopError"),
    ),
    _fetch("redirect-to-ftp", "/to-ftp", "a redirect to ftp://", _failed("InvalidUrlError")),
    _fetch(
        "redirect-to-file",
        "/to-file",
        "a redirect to file:///etc/passwd",
        _failed("InvalidUrlError"),
    ),
    _fetch(
        "redirect-to-javascript",
        "/to-javascript",
        "a redirect to javascript:",
        _failed("InvalidUrlError"),
    ),
    _fetch("redirect-to-data", "/to-data", "a redirect to a data: URL", _failed("InvalidUrlError")),
    _fetch(
        "redirect-malformed",
        "/to-malformed",
        "a Location that is not a URL",
        _failed("InvalidUrlError"),
    ),
    _fetch(
        "redirect-no-location", "/no-location", "a 302 without Location", _failed("HttpStatusError")
    ),
    _fetch("storm-429", "/storm/429", "429 on every request", _failed("HttpStatusError", "429")),
    _fetch("storm-503", "/storm/503", "503 on every request", _failed("HttpStatusError", "503")),
    _fetch("storm-500", "/storm/500", "500 on every request", _failed("HttpStatusError", "500")),
    _fetch(
        "retry-after-one-day",
        "/retry-after-huge",
        "429 with Retry-After of a day (not waited for)",
        _failed("HttpStatusError", "429"),
    ),
    _fetch(
        "connection-reset",
        "/reset",
        "the connection reset with no answer",
        _failed("FetchConnectionError"),
    ),
    _fetch(
        "garbage-status-line", "/garbage-status", "HTTP/1.1 banana", _failed("FetchConnectionError")
    ),
    _fetch(
        "not-http",
        "/not-http",
        "an SSH banner and binary instead of HTTP",
        _failed("FetchConnectionError"),
    ),
]


def _crawl(
    name: str,
    summary: str,
    expect: Expect,
    *,
    seconds: float = 3.0,
    peak_mb: float = 32.0,
    known_failure: str | None = None,
) -> Case:
    return Case(name, "web", "web-crawl", summary, expect, seconds, peak_mb, known_failure)


CRAWL_CASES: dict[str, Case] = {
    case.name: case
    for case in [
        _crawl("robots-huge", "a 45 MB robots.txt", Expect("new"), seconds=4.0, peak_mb=48),
        _crawl(
            "robots-malformed",
            "robots.txt of binary and broken lines around one valid rule (which is obeyed)",
            Expect("refused", "robots"),
        ),
        _crawl("robots-is-html", "robots.txt answered with an HTML page", Expect("new")),
        _crawl(
            "robots-500",
            "robots.txt answers 500 (RFC 9309: assume the site is disallowed)",
            Expect("refused", "robots"),
        ),
        _crawl(
            "sitemap-million-default-caps",
            "a streamed sitemap of 1,000,000 URLs (57 MB) under the default 20 MiB cap",
            Expect("failed", "ResponseTooLargeError"),
            seconds=8.0,
            peak_mb=64,
        ),
        _crawl(
            "sitemap-million-raised-caps",
            "the same sitemap (57 MB) with its caps raised to 100 MB: at most max_pages "
            "admitted, resident memory within 3x the sitemap",
            Expect("bounded"),
            seconds=15.0,
            peak_mb=180,
        ),
        _crawl(
            "infinite-links",
            "every page links to ten new pages and a new query of itself",
            Expect("bounded"),
            seconds=10.0,
            peak_mb=48,
        ),
        _crawl(
            "html-30k-attributes",
            "a page with one element of 30,000 attributes: its links are read in linear time",
            Expect("new"),
            seconds=1.0,
            peak_mb=64,
        ),
        _crawl(
            "page-differs-every-request",
            "a page whose body changes on every request, crawled twice",
            Expect("new"),
        ),
        _crawl(
            "tls-self-signed",
            "an https seed served with a self-signed certificate",
            Expect("failed", "FetchConnectionError", "certificate verify failed"),
        ),
        _crawl(
            "private-seed-guard-on",
            "a 127.0.0.1 seed with the private-network guard on: no request at all",
            Expect("refused", "private-address"),
        ),
    ]
}

#: Paths the web flow run crawls from one index page, with the outcome each must end in.
FLOW_LINKS: dict[str, Expect] = {
    "/ok/1.html": Expect("new"),
    "/ok/2.html": Expect("new"),
    "/secret.html": Expect("new"),
    "/changing": Expect("new"),
    "/slowloris-body": _failed("FetchTimeoutError"),
    "/endless-headers": _failed("FetchConnectionError"),
    "/truncated-chunked": _failed("FetchConnectionError"),
    "/deflate-bomb": Expect("skipped", "too-large"),
    "/brotli-bomb": _failed("ContentDecodingError"),
    "/loop/a": _failed("RedirectLoopError"),
    "/to-file": _failed("InvalidUrlError"),
    "/storm/503": _failed("HttpStatusError"),
    "/storm/429": _failed("HttpStatusError"),
    "/reset": _failed("FetchConnectionError"),
}
FLOW_CASE = Case(
    "web-flow-hostile-site",
    "web",
    "web-flow",
    "one ingest-web run over a site linking to 14 hostile and good pages, secrets planted",
    Expect("new"),
    max_seconds=60.0,
    max_peak_mb=512.0,
)

register(*(web.case for web in FETCH_CASES), *CRAWL_CASES.values(), FLOW_CASE)
