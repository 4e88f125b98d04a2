"""Errors of the web source, and the one place where httpx and socket errors are mapped to them.

SourceAccessError
├── WebFetchError                 a URL could not be fetched (base of the web errors)
│   ├── FetchTimeoutError         connect/read/write/pool timeout or the request deadline
│   ├── FetchConnectionError      connection refused or reset, protocol or proxy failure
│   ├── NameResolutionError       the host name does not resolve
│   ├── HttpStatusError           an HTTP error status (retryable for 408, 429 and 5xx)
│   ├── TooManyRedirectsError     more redirects than allowed
│   │   └── RedirectLoopError     a redirect led back to a URL already in the chain
│   ├── InvalidUrlError           not an http(s) URL, or not a URL at all
│   ├── ContentDecodingError      the body does not match its Content-Encoding
│   ├── SitemapError              a sitemap is not well-formed XML or is too large
│   └── RefusedError              the crawler will not send the request (nothing was sent)
│       ├── BlockedByRobotsError  robots.txt disallows the URL
│       ├── PrivateAddressError   the host is or resolves to a non-public address
│       └── OutOfScopeError       a redirect left the crawl scope
└── ItemTooLargeError
    └── ResponseTooLargeError     the (decoded) body is over the size cap
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any, TypeVar

import httpx

from ...errors import ItemGoneError, ItemTooLargeError, SourceAccessError

E = TypeVar("E", bound=BaseException)

_RETRYABLE_STATUSES = frozenset(
    {408, 425, 429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524}
)


class WebFetchError(SourceAccessError):
    """A URL could not be fetched; `uri` names it and `stage` is "fetch"."""

    code = "fetch-error"

    def __init__(self, message: str, *, uri: str, **kwargs: Any) -> None:
        kwargs.setdefault("stage", "fetch")
        super().__init__(message, uri=uri, **kwargs)


class FetchTimeoutError(WebFetchError):
    code = "timeout"
    default_retryable = True


class FetchConnectionError(WebFetchError):
    code = "connection-error"
    default_retryable = True


class NameResolutionError(WebFetchError):
    code = "dns-error"


class HttpStatusError(WebFetchError):
    """The server answered with an error status; `status` holds it."""

    code = "http-status"

    def __init__(self, message: str, *, uri: str, status: int, **kwargs: Any) -> None:
        kwargs.setdefault("retryable", is_retryable_status(status))
        details = {**(kwargs.pop("details", None) or {}), "status": status}
        super().__init__(message, uri=uri, details=details, **kwargs)

    @property
    def status(self) -> int:
        return int(self.details["status"])

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_status,
            (type(self), self.reason, self.uri, self.status, self.retryable, self.details),
        )


class PageGoneError(HttpStatusError, ItemGoneError):
    """HTTP 404 or 410: the page does not exist (any more)."""

    code = "http-gone"


def status_error(message: str, *, uri: str, status: int, **kwargs: Any) -> HttpStatusError:
    """The HttpStatusError for `status`: a PageGoneError for 404 and 410."""
    cls = PageGoneError if status in (404, 410) else HttpStatusError
    return cls(message, uri=uri, status=status, **kwargs)


def _rebuild_status(
    cls: type[HttpStatusError],
    message: str,
    uri: str,
    status: int,
    retryable: bool,
    details: dict[str, Any],
) -> HttpStatusError:
    return cls(message, uri=uri, status=status, retryable=retryable, details=details)


class TooManyRedirectsError(WebFetchError):
    code = "too-many-redirects"


class RedirectLoopError(TooManyRedirectsError):
    code = "redirect-loop"


class InvalidUrlError(WebFetchError):
    code = "invalid-url"


class ContentDecodingError(WebFetchError):
    code = "decoding-error"


class SitemapError(WebFetchError):
    code = "bad-sitemap"


class RefusedError(WebFetchError):
    """The crawler refused the URL on purpose; no request was sent to it."""

    code = "refused"


class BlockedByRobotsError(RefusedError):
    code = "robots"


class PrivateAddressError(RefusedError):
    code = "private-address"


class OutOfScopeError(RefusedError):
    code = "out-of-scope"


class ResponseTooLargeError(ItemTooLargeError):
    """The body is larger than the cap (declared in Content-Length, or counted decoded)."""

    code = "too-large"

    def __init__(self, message: str, *, uri: str, **kwargs: Any) -> None:
        kwargs.setdefault("stage", "fetch")
        super().__init__(message, uri=uri, **kwargs)


def is_retryable_status(status: int) -> bool:
    return status in _RETRYABLE_STATUSES or status >= 500


def error_code(exc: SourceAccessError) -> str:
    """A short machine-readable reason for reports ("timeout", "robots", ...)."""
    return str(getattr(exc, "code", "fetch-error"))


def map_exception(exc: BaseException, url: str) -> SourceAccessError:
    """The web error for a foreign exception met while fetching `url`.

    Every httpx exception class maps to a specific class; anything else becomes a
    non-retryable `WebFetchError` that names the foreign type.
    """
    if isinstance(exc, SourceAccessError):
        return exc
    detail = str(exc) or type(exc).__name__
    details = {"exception": type(exc).__name__}
    cause = exc.__cause__
    if (
        isinstance(exc, httpx.ConnectTimeout)
        and cause is not None
        and _is_aiohttp_error(cause)
        and not isinstance(cause, TimeoutError)
    ):
        # httpx-aiohttp reports every aiohttp connection error as a connect timeout.
        return map_exception(cause, url)
    if isinstance(exc, httpx.TimeoutException | asyncio.TimeoutError | TimeoutError):
        kinds: dict[type[BaseException], str] = {
            httpx.ConnectTimeout: "connect timeout",
            httpx.ReadTimeout: "read timeout",
            httpx.WriteTimeout: "write timeout",
            httpx.PoolTimeout: "timed out waiting for a free connection",
        }
        kind = kinds.get(type(exc), "request deadline exceeded")
        return FetchTimeoutError(f"{kind} fetching {url}", uri=url, details=details)
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return status_error(f"HTTP {status} from {url}", uri=url, status=status)
    if isinstance(exc, httpx.TooManyRedirects):
        return TooManyRedirectsError(f"too many redirects from {url}", uri=url, details=details)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return InvalidUrlError(f"invalid or unsupported URL {url}: {detail}", uri=url)
    if isinstance(exc, httpx.DecodingError):
        return ContentDecodingError(f"cannot decode the body of {url}: {detail}", uri=url)
    if isinstance(exc, httpx.LocalProtocolError):
        return FetchConnectionError(
            f"invalid request for {url}: {detail}", uri=url, retryable=False, details=details
        )
    dns = _find_cause(exc, socket.gaierror)
    if dns is not None:
        return _dns_error(dns, url)
    if _find_cause(exc, ssl.SSLCertVerificationError) or _CERTIFICATE in detail.lower():
        # An untrusted certificate stays untrusted: retrying cannot help.
        return FetchConnectionError(
            f"TLS certificate of {url} not trusted (certificate verify failed): {detail}",
            uri=url,
            retryable=False,
            details={**details, "tls": "certificate"},
        )
    if isinstance(exc, httpx.TransportError | ConnectionError | OSError):
        # NetworkError, RemoteProtocolError, ProxyError and raw socket errors.
        return FetchConnectionError(
            f"connection failed for {url}: {detail}", uri=url, details=details
        )
    if isinstance(exc, httpx.HTTPError | httpx.StreamError | httpx.CookieConflict):
        return WebFetchError(
            f"client error fetching {url}: {detail}", uri=url, retryable=False, details=details
        )
    if _is_aiohttp_error(exc):
        return FetchConnectionError(
            f"connection failed for {url}: {detail}", uri=url, details=details
        )
    return WebFetchError(
        f"unexpected {type(exc).__name__} fetching {url}: {detail}",
        uri=url,
        retryable=False,
        details=details,
    )


def _dns_error(exc: socket.gaierror, url: str) -> NameResolutionError:
    transient = exc.errno in (socket.EAI_AGAIN,)
    return NameResolutionError(
        f"cannot resolve the host of {url}: {exc.strerror or exc}",
        uri=url,
        retryable=transient,
        details={"exception": "gaierror", "errno": exc.errno},
    )


_CERTIFICATE = "certificate verify failed"


def _find_cause(exc: BaseException, kind: type[E]) -> E | None:
    seen: BaseException | None = exc
    for _ in range(5):  # httpx error <- aiohttp error <- socket error, at most
        if seen is None:
            return None
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _is_aiohttp_error(exc: BaseException) -> bool:
    return any(cls.__module__.startswith("aiohttp") for cls in type(exc).__mro__)
