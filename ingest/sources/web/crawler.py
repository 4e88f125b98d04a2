"""The polite and safe HTTP client of the web source: `Crawler.fetch` gets one URL with the
private-network guard, robots.txt, per-host limits, retries, manual redirects and a body cap."""

from __future__ import annotations

import asyncio
import importlib.util
import time
from dataclasses import dataclass, field
from types import TracebackType

import httpx

from ...content_types import DOCUMENT_TYPES
from ...decoding import looks_binary
from ...errors import AuthenticationError, SourceAccessError
from .addresses import AddressGuard
from .auth import REFUSED_STATUSES, OriginAuth
from .bodies import ACCEPT_ENCODING, read_body
from .config import WebSourceConfig
from .errors import (
    BlockedByRobotsError,
    FetchTimeoutError,
    HttpStatusError,
    InvalidUrlError,
    OutOfScopeError,
    RedirectLoopError,
    TooManyRedirectsError,
    map_exception,
    status_error,
)
from .hosts import HostLimiter, SharedHostLimits
from .retry import backoff_delay, parse_retry_after
from .robots import MAX_ROBOTS_BYTES, RobotsCache, RobotsResponse, RobotsRules
from .urls import Scope, host_port, normalize_url, origin, resolve_url

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
KEPT_HEADERS = (
    "content-type",
    "content-length",
    "content-encoding",
    "content-language",
    "etag",
    "last-modified",
    "cache-control",
    "expires",
    "date",
    "age",
    "vary",
    "link",
    "x-robots-tag",
    "retry-after",
)
_TEXTUAL_TYPES = ("text/", "application/xhtml+xml", "application/xml", "application/json")
_ROBOTS_REDIRECTS = 5
#: Pages first, then the documents the processors read (PDF, OOXML, EPUB), then anything.
ACCEPT = ",".join(
    [
        "text/html",
        "application/xhtml+xml",
        "application/xml;q=0.9",
        *(f"{content_type};q=0.9" for content_type in DOCUMENT_TYPES),
        "*/*;q=0.8",
    ]
)


def web_fingerprint(etag: str | None, last_modified: str | None) -> str | None:
    """The change marker stored for a page: its ETag, else its Last-Modified."""
    if etag:
        return f"etag:{etag}"
    if last_modified:
        return f"last-modified:{last_modified}"
    return None


def validators_from_fingerprint(fingerprint: str | None) -> tuple[str | None, str | None]:
    """(etag, last_modified) back from a stored `web_fingerprint`."""
    if fingerprint is None:
        return None, None
    kind, _, value = fingerprint.partition(":")
    if kind == "etag":
        return value, None
    if kind == "last-modified":
        return None, value
    return None, None


def parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """(media type in lower case, charset) from a Content-Type header."""
    if not value:
        return None, None
    media, *params = value.split(";")
    charset = None
    for param in params:
        name, _, raw = param.partition("=")
        if name.strip().lower() == "charset":
            charset = raw.strip().strip("\"'").lower() or None
    return media.strip().lower() or None, charset


def is_textual(media_type: str | None) -> bool:
    return media_type is not None and (
        media_type.startswith(_TEXTUAL_TYPES) or media_type.endswith(("+xml", "+json"))
    )


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One fetched URL: what the server said, without secrets, and the capped body."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    content_type: str | None
    charset: str | None
    body: bytes
    etag: str | None
    last_modified: str | None
    not_modified: bool
    elapsed: float
    redirects: tuple[str, ...] = ()
    attempts: int = 1
    problem_code: str | None = None
    problem: str | None = None

    @property
    def fingerprint(self) -> str | None:
        return web_fingerprint(self.etag, self.last_modified)


@dataclass(frozen=True, slots=True)
class _Redirect:
    location: str


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    headers: httpx.Headers
    body: bytes = field(default=b"")


def aiohttp_available() -> bool:
    return importlib.util.find_spec("httpx_aiohttp") is not None


def build_client(
    config: WebSourceConfig,
    transport: httpx.AsyncBaseTransport | None = None,
    auth: OriginAuth | None = None,
) -> httpx.AsyncClient:
    """The httpx client of a crawl: no automatic redirects, no proxies from the environment;
    `auth` signs only the requests to the origins it is bound to."""
    limits = httpx.Limits(
        max_connections=config.concurrency, max_keepalive_connections=config.concurrency
    )
    backend = config.http_backend
    if transport is None and (backend == "aiohttp" or (backend == "auto" and aiohttp_available())):
        from httpx_aiohttp import AiohttpTransport

        transport = AiohttpTransport(limits=limits, trust_env=False)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(
            connect=config.connect_timeout,
            read=config.read_timeout,
            write=config.write_timeout,
            pool=config.pool_timeout,
        ),
        limits=limits,
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        auth=auth,
        headers={
            "User-Agent": config.user_agent,
            "Accept-Encoding": ACCEPT_ENCODING,
            "Accept": ACCEPT,
        },
    )


class Crawler:
    """Fetches URLs politely and safely; use as an async context manager.

    Before any request to a URL (each redirect hop included) it checks the scope,
    the private-network guard and robots.txt, so a refused URL is never requested.
    """

    def __init__(
        self,
        config: WebSourceConfig,
        *,
        scope: Scope | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        auth: OriginAuth | None = None,
        shared_limits: SharedHostLimits | None = None,
    ) -> None:
        self.config = config
        self.scope = scope
        self.auth = auth
        self.guard = AddressGuard(allow_private_network=config.allow_private_network)
        self.limiter = HostLimiter(
            concurrency=config.per_host_concurrency,
            delay=config.per_host_delay,
            shared=shared_limits,
        )
        self.robots = RobotsCache(self._fetch_robots, config.agent_token)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._slots = asyncio.Semaphore(config.concurrency)
        self._delays_applied: set[str] = set()

    async def __aenter__(self) -> Crawler:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = build_client(self.config, self._transport, self.auth)
        return self._client

    def normalize(self, url: str) -> str | None:
        return normalize_url(url, sorted_query=self.config.sorted_query)

    # -- checks before sending -------------------------------------------------------------

    async def admit(self, url: str, *, check_scope: bool = True, sitemap: bool = False) -> None:
        """Return when `url` may be requested, else raise a RefusedError (nothing is sent)."""
        if check_scope and self.scope is not None:
            reason = self.scope.sitemap_refusal(url) if sitemap else self.scope.refusal(url)
            if reason is not None:
                raise OutOfScopeError(f"{url} is out of scope: {reason}", uri=url)
        host, port = host_port(url)
        await self.guard.check(url, host, port)
        if self.config.ignore_robots:
            return
        rules = await self.robots_rules(origin(url))
        reason = rules.refusal(url, self.robots.agent)
        if reason is not None:
            raise BlockedByRobotsError(f"{url}: {reason}", uri=url)

    async def robots_rules(self, site: str) -> RobotsRules:
        rules = await self.robots.rules(site)
        if rules.crawl_delay and site not in self._delays_applied:
            self._delays_applied.add(site)
            self.limiter.raise_delay(site, min(rules.crawl_delay, self.config.max_crawl_delay))
        return rules

    # -- fetching --------------------------------------------------------------------------

    async def fetch(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        *,
        max_bytes: int | None = None,
        sitemap: bool = False,
    ) -> FetchResult:
        """Fetch `url`, following redirects by hand; raise a SourceAccessError subclass.

        `etag` / `last_modified` are the stored validators of the item: when given,
        the request is conditional and a 304 comes back as `not_modified`. A `sitemap`
        (and each of its redirect hops) is checked against the allowed hosts only.
        """
        started = time.perf_counter()
        first = self.normalize(url)
        if first is None:
            raise InvalidUrlError(f"not an http or https URL: {url!r}", uri=url)
        cap = max_bytes or self.config.max_bytes
        conditional: dict[str, str] = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        current = first
        chain: list[str] = []
        attempts = 0
        for _hop in range(self.config.max_redirects + 1):
            await self.admit(current, sitemap=sitemap)
            outcome, tries = await self._with_retries(
                current, conditional if not chain else {}, cap
            )
            attempts += tries
            if isinstance(outcome, _Response):
                return self._result(first, current, outcome, chain, attempts, started)
            target = resolve_url(current, outcome.location, sorted_query=self.config.sorted_query)
            if target is None:
                raise InvalidUrlError(
                    f"{current} redirects to an unusable URL {outcome.location!r}",
                    uri=current,
                    details={"redirects": [*chain, current]},
                )
            chain.append(current)
            if target in chain:
                raise RedirectLoopError(
                    f"redirect loop: {current} leads back to {target}",
                    uri=first,
                    details={"redirects": [*chain, target]},
                )
            current = target
        raise TooManyRedirectsError(
            f"more than {self.config.max_redirects} redirects starting at {first}",
            uri=first,
            details={"redirects": chain},
        )

    async def _with_retries(
        self, url: str, headers: dict[str, str], cap: int, *, truncate: bool = False
    ) -> tuple[_Redirect | _Response, int]:
        site = origin(url)
        attempt = 0
        while True:
            try:
                return await self._attempt(url, site, headers, cap, truncate), attempt + 1
            except SourceAccessError as exc:
                exc.details["attempts"] = attempt + 1
                if not exc.retryable or attempt >= self.config.max_retries:
                    if isinstance(exc, FetchTimeoutError):
                        raise self._gave_up(exc, attempt + 1) from exc
                    raise
                retry_after = exc.details.get("retry_after")
                if retry_after is not None:
                    if retry_after > self.config.max_retry_after:
                        exc.details["reason"] = "Retry-After beyond max_retry_after"
                        raise
                    # Every request to the host waits, not only this one.
                    self.limiter.defer(site, float(retry_after))
                    wait = 0.0
                else:
                    wait = backoff_delay(attempt, self.config.backoff_base, self.config.backoff_max)
                attempt += 1
                await asyncio.sleep(wait)

    async def _attempt(
        self, url: str, site: str, headers: dict[str, str], cap: int, truncate: bool
    ) -> _Redirect | _Response:
        async with self.limiter.slot(site), self._slots:
            try:
                async with asyncio.timeout(self.config.request_deadline):
                    request = self.client.build_request("GET", url, headers=headers)
                    response = await self.client.send(request, stream=True)
                    try:
                        return await self._read(url, response, cap, truncate)
                    finally:
                        await response.aclose()
            except (SourceAccessError, AuthenticationError):
                raise
            except Exception as exc:
                raise self._timed_out(exc, url) or map_exception(exc, url) from exc

    def _timed_out(self, exc: Exception, url: str) -> FetchTimeoutError | None:
        """A timeout, named with the limit that ran out (and the option that sets it)."""
        config = self.config
        limits: dict[type[BaseException], str] = {
            httpx.ConnectTimeout: f"connect timeout ({config.connect_timeout:g} s)",
            httpx.ReadTimeout: f"read timeout (no data for {config.read_timeout:g} s, "
            "--read-timeout)",
            httpx.WriteTimeout: f"write timeout ({config.write_timeout:g} s)",
            httpx.PoolTimeout: f"no free connection within {config.pool_timeout:g} s",
        }
        kind = limits.get(type(exc))
        if kind is None and isinstance(exc, TimeoutError):
            kind = (
                f"request deadline exceeded ({config.request_deadline:g} s per attempt, --timeout)"
            )
        if kind is None:
            return None
        mapped = map_exception(exc, url)
        if not isinstance(mapped, FetchTimeoutError):  # an aiohttp connection error
            return None
        return FetchTimeoutError(
            f"{kind} fetching {url}", uri=url, details={**mapped.details, "timeout": kind}
        )

    @staticmethod
    def _gave_up(exc: FetchTimeoutError, attempts: int) -> FetchTimeoutError:
        return FetchTimeoutError(
            f"{exc.reason}; gave up after {attempts} attempt(s)",
            uri=exc.uri or "",
            details={**exc.details, "attempts": attempts},
        )

    async def _read(
        self, url: str, response: httpx.Response, cap: int, truncate: bool
    ) -> _Redirect | _Response:
        status = response.status_code
        if status in REDIRECT_STATUSES and "location" in response.headers:
            return _Redirect(response.headers["location"])
        if status == 304:
            return _Response(status, response.headers)
        if status in REFUSED_STATUSES and self.auth is not None and self.auth.applies_to(url):
            # Signed and still refused (after a token refresh): every other page would be
            # refused too, or be a login page; stop the crawl rather than store those.
            raise self.auth.refused(url, status)
        if status >= 300:
            details: dict[str, object] = {}
            if status in (429, 503):
                details["retry_after"] = parse_retry_after(response.headers.get("retry-after"))
                if details["retry_after"] is None:
                    del details["retry_after"]
            raise status_error(
                f"HTTP {status} {response.reason_phrase} from {url}".replace("  ", " "),
                uri=url,
                status=status,
                details=details,
            )
        return _Response(
            status, response.headers, await read_body(response, url, cap, truncate=truncate)
        )

    def _result(
        self,
        first: str,
        final: str,
        response: _Response,
        chain: list[str],
        attempts: int,
        started: float,
    ) -> FetchResult:
        headers = {
            name: response.headers[name] for name in KEPT_HEADERS if name in response.headers
        }
        media_type, charset = parse_content_type(headers.get("content-type"))
        problem_code = problem = None
        if is_textual(media_type) and looks_binary(response.body):
            problem_code = "binary-body"
            problem = f"{final} declares {media_type} but its body is binary"
        return FetchResult(
            url=first,
            final_url=final,
            status=response.status,
            headers=headers,
            content_type=media_type,
            charset=charset,
            body=response.body,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            not_modified=response.status == 304,
            elapsed=time.perf_counter() - started,
            redirects=tuple(chain),
            attempts=attempts,
            problem_code=problem_code,
            problem=problem,
        )

    async def _fetch_robots(self, url: str) -> RobotsResponse:
        """robots.txt of one origin: redirects followed (5 at most), every hop guarded."""
        current = url
        seen: list[str] = []
        for _hop in range(_ROBOTS_REDIRECTS + 1):
            host, port = host_port(current)
            await self.guard.check(current, host, port)
            try:
                outcome, _ = await self._with_retries(current, {}, MAX_ROBOTS_BYTES, truncate=True)
            except HttpStatusError as exc:
                return RobotsResponse(exc.status, b"")
            except AuthenticationError as exc:
                # A robots.txt refused to the credentials is "unavailable" (RFC 9309); the
                # pages themselves decide whether the credentials are wrong.
                return RobotsResponse(int(exc.details.get("status", 401)), b"")
            if isinstance(outcome, _Response):
                return RobotsResponse(outcome.status, outcome.body)
            seen.append(current)
            target = resolve_url(current, outcome.location)
            if target is None or target in seen:
                break
            current = target
        return RobotsResponse(404, b"")  # RFC 9309: unfollowable redirects mean "unavailable"
