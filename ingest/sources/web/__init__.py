"""The web source: a polite, safe, bounded crawler that yields fetched pages in batches."""

from __future__ import annotations

from .config import DEFAULT_USER_AGENT, WebSourceConfig
from .crawler import Crawler, FetchResult, validators_from_fingerprint, web_fingerprint
from .errors import (
    BlockedByRobotsError,
    ContentDecodingError,
    FetchConnectionError,
    FetchTimeoutError,
    HttpStatusError,
    InvalidUrlError,
    NameResolutionError,
    OutOfScopeError,
    PageGoneError,
    PrivateAddressError,
    RedirectLoopError,
    RefusedError,
    ResponseTooLargeError,
    SitemapError,
    TooManyRedirectsError,
    WebFetchError,
    map_exception,
)
from .frontier import Refusal
from .pages import CrawledBatchSource, CrawledPage, CrawlStats, SitemapFailure
from .source import WebSource
from .urls import Scope, normalize_url, resolve_url

__all__ = [
    "PageGoneError",
    "DEFAULT_USER_AGENT",
    "BlockedByRobotsError",
    "ContentDecodingError",
    "CrawlStats",
    "CrawledBatchSource",
    "CrawledPage",
    "Crawler",
    "FetchConnectionError",
    "FetchResult",
    "FetchTimeoutError",
    "HttpStatusError",
    "InvalidUrlError",
    "NameResolutionError",
    "OutOfScopeError",
    "PrivateAddressError",
    "RedirectLoopError",
    "RefusedError",
    "Refusal",
    "ResponseTooLargeError",
    "Scope",
    "SitemapError",
    "SitemapFailure",
    "TooManyRedirectsError",
    "WebFetchError",
    "WebSource",
    "WebSourceConfig",
    "map_exception",
    "normalize_url",
    "resolve_url",
    "validators_from_fingerprint",
    "web_fingerprint",
]
