"""The web source: a crawl in which discovery and fetching interleave, yielding batches of
fetched pages (item plus result, or item plus error) for the pipeline to validate, process
and store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from ...content_types import guess_content_type
from ...errors import ConfigurationError, SourceAccessError
from ...models import SourceItem, content_hash
from .auth import OriginAuth
from .config import WebSourceConfig
from .crawler import Crawler, FetchResult, web_fingerprint
from .errors import BlockedByRobotsError, RefusedError, SitemapError, error_code
from .frontier import DUPLICATE, INVALID_URL, Frontier, Kind, Refusal, Request
from .hosts import SharedHostLimits
from .links import HTML_TYPES, extract_links
from .sitemaps import looks_like_sitemap, parse_sitemap
from .urls import Scope, normalize_url, origin

#: Stored validators of a URL, (ETag, Last-Modified), for conditional requests.
ValidatorsLookup = Callable[[str], tuple[str | None, str | None] | None]


@dataclass(frozen=True, slots=True)
class DonePage:
    """A page an earlier run of the same job already stored: its fingerprint and links."""

    fingerprint: str
    links: list[str]


#: Pages already done in the job being resumed: they are not fetched again.
DoneLookup = Callable[[str], DonePage | None]

_SITEMAP_TYPES = frozenset(
    {
        "application/xml",
        "text/xml",
        "application/gzip",
        "application/x-gzip",
        "application/octet-stream",
    }
)
_DONE = None


@dataclass(frozen=True, slots=True)
class CrawledPage:
    """One page of the crawl: its item, and its fetch result, or the error that failed it,
    or neither when an earlier run of the same job already stored it."""

    item: SourceItem
    result: FetchResult | None = None
    error: SourceAccessError | None = None
    depth: int = 0
    referrer: str | None = None


@dataclass(frozen=True, slots=True)
class SitemapFailure:
    url: str
    code: str
    reason: str


@dataclass
class CrawlStats:
    pages: int = 0
    failed: int = 0
    not_modified: int = 0
    sitemaps: int = 0
    bytes: int = 0
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None

    @property
    def seconds(self) -> float:
        return (self.finished or time.perf_counter()) - self.started

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0


class WebSource:
    """Crawls from the seeds of a `WebSourceConfig`; use `crawl` inside `async with`.

    `crawl(batch_size)` yields lists of `CrawledPage` as pages are fetched (up to
    `concurrency` at once); refused URLs are recorded in `refusals` (never requested),
    failed sitemaps in `sitemap_failures`. With `auth`, requests to its origins are signed,
    and credentials refused there (HTTP 401/403) end the crawl with `AuthenticationError`.
    With `shared_limits`, the per-host limits also bind the other crawls that share them.
    """

    def __init__(
        self,
        config: WebSourceConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        validators: ValidatorsLookup | None = None,
        flush_after: float = 2.0,
        auth: OriginAuth | None = None,
        shared_limits: SharedHostLimits | None = None,
    ) -> None:
        config.check()
        self.config = config
        self.scope = Scope(config)
        seeds = [url for seed in config.seeds if (url := self._normalize(seed))]
        self.source_id = "web:" + origin(seeds[0])
        self._seeds = seeds
        self.crawler = Crawler(
            config, scope=self.scope, transport=transport, auth=auth, shared_limits=shared_limits
        )
        self.frontier = Frontier(
            self.scope,
            max_depth=config.max_depth,
            max_pages=config.max_pages,
            max_sitemaps=config.max_sitemaps,
            max_refusals_recorded=config.max_refusals_recorded,
        )
        self.sitemap_failures: list[SitemapFailure] = []
        self.stats = CrawlStats()
        self.validators = validators
        self.done: DoneLookup | None = None
        self._flush_after = flush_after
        self._in_flight = 0

    async def __aenter__(self) -> WebSource:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.crawler.aclose()

    @property
    def refusals(self) -> list[Refusal]:
        return self.frontier.refusals

    def _normalize(self, url: str) -> str | None:
        return normalize_url(url, sorted_query=self.config.sorted_query)

    # -- the crawl loop --------------------------------------------------------------------

    async def crawl(self, batch_size: int) -> AsyncIterator[list[CrawledPage]]:
        """Batches of at most `batch_size` pages; a partial batch is yielded when no page
        came for `flush_after` seconds, and at the end."""
        if batch_size < 1:
            raise ConfigurationError(f"batch_size must be at least 1, got {batch_size}")
        self.stats = CrawlStats()
        for seed in self._seeds:
            self.frontier.add(seed, 0, Kind.PAGE, seed=True)
        for sitemap in self.config.sitemaps:
            if url := self._normalize(sitemap):
                self.frontier.add(url, 0, Kind.SITEMAP, seed=True)
        if self.config.sitemaps_from_robots and not self.config.ignore_robots:
            await self._add_robots_sitemaps()
        out: asyncio.Queue[CrawledPage | None] = asyncio.Queue(maxsize=2 * batch_size)
        wake = asyncio.Condition()
        workers = [
            asyncio.create_task(self._worker(out, wake)) for _ in range(self.config.concurrency)
        ]
        supervisor = asyncio.create_task(self._supervise(workers, out))
        batch: list[CrawledPage] = []
        try:
            while True:
                try:
                    if batch:
                        page = await asyncio.wait_for(out.get(), self._flush_after)
                    else:
                        page = await out.get()
                except TimeoutError:
                    yield batch
                    batch = []
                    continue
                if page is _DONE:
                    break
                batch.append(page)
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
            await supervisor  # re-raises a worker's crash
            if batch:
                yield batch
        finally:
            self.stats.finished = time.perf_counter()
            for task in [*workers, supervisor]:
                task.cancel()
            await asyncio.gather(*workers, supervisor, return_exceptions=True)

    async def _supervise(
        self, workers: list[asyncio.Task[None]], out: asyncio.Queue[CrawledPage | None]
    ) -> None:
        try:
            await asyncio.gather(*workers)
        except BaseException:
            for task in workers:
                task.cancel()
            raise
        finally:
            await out.put(_DONE)

    async def _worker(
        self, out: asyncio.Queue[CrawledPage | None], wake: asyncio.Condition
    ) -> None:
        while True:
            async with wake:
                while (request := self.frontier.pop()) is None:
                    if self._in_flight == 0:
                        wake.notify_all()
                        return
                    await wake.wait()
                self._in_flight += 1
            try:
                page = await self._take(request)
                if page is not None:
                    await out.put(page)
            finally:
                async with wake:
                    self._in_flight -= 1
                    wake.notify_all()

    async def _add_robots_sitemaps(self) -> None:
        for site in dict.fromkeys(origin(seed) for seed in self._seeds):
            try:
                await self.crawler.admit(site + "/robots.txt", check_scope=False)
            except RefusedError as exc:
                self.frontier.refuse(site + "/robots.txt", exc.code, exc.reason)
                continue
            except SourceAccessError:
                continue
            rules = self.crawler.robots.cached(site)
            for sitemap in rules.sitemaps if rules else []:
                if url := self._normalize(sitemap):
                    self.frontier.add(url, 0, Kind.SITEMAP, referrer=site + "/robots.txt")

    # -- one URL ---------------------------------------------------------------------------

    async def _take(self, request: Request) -> CrawledPage | None:
        url = request.url
        if request.kind is Kind.PAGE and self.done is not None:
            done = self.done(url)
            if done is not None:
                return self._take_done(request, done)
        etag = last_modified = None
        if self.validators is not None and request.kind is Kind.PAGE:
            etag, last_modified = self.validators(url) or (None, None)
        cap = self.config.max_sitemap_bytes if request.kind is Kind.SITEMAP else None
        try:
            result = await self.crawler.fetch(
                url, etag, last_modified, max_bytes=cap, sitemap=request.kind is Kind.SITEMAP
            )
        except RefusedError as exc:
            self.frontier.refuse(url, exc.code, exc.reason, request.referrer)
            self.frontier.release(request)
            return None
        except SourceAccessError as exc:
            if request.kind is Kind.SITEMAP:
                self.sitemap_failures.append(SitemapFailure(url, error_code(exc), exc.reason))
                return None
            self.frontier.record(url)
            self.stats.failed += 1
            return CrawledPage(
                self._item(url), error=exc, depth=request.depth, referrer=request.referrer
            )
        if request.kind is Kind.SITEMAP or (request.seed and self._is_sitemap(result)):
            self._take_sitemap(request, result)
            return None
        return self._take_page(request, result, etag, last_modified)

    def _is_sitemap(self, result: FetchResult) -> bool:
        return result.content_type in _SITEMAP_TYPES and looks_like_sitemap(result.body)

    def _take_sitemap(self, request: Request, result: FetchResult) -> None:
        self.stats.sitemaps += 1
        try:
            sitemap = parse_sitemap(result.body, result.final_url, self.config.max_sitemap_bytes)
        except SitemapError as exc:
            self.sitemap_failures.append(SitemapFailure(request.url, exc.code, exc.reason))
            return
        kind = Kind.PAGE if sitemap.kind == "urlset" else Kind.SITEMAP
        for loc in sitemap.urls:
            url = self._normalize(loc)
            if url is None:
                self.frontier.refuse(loc, INVALID_URL, "not an http(s) URL", request.url)
            else:
                self.frontier.add(url, 0, kind, referrer=request.url)

    def _take_page(
        self,
        request: Request,
        result: FetchResult,
        etag: str | None,
        last_modified: str | None,
    ) -> CrawledPage | None:
        final = result.final_url
        links = None
        if result.content_type in HTML_TYPES and result.body and result.problem is None:
            links = extract_links(
                result.body,
                final,
                charset=result.charset,
                sorted_query=self.config.sorted_query,
                respect_nofollow=self.config.respect_nofollow,
            )
        uri = final
        canonical = links.canonical if links is not None else None
        if canonical and canonical != final and canonical in self.scope:
            # An alias: the canonical page's own response is what gets stored, so the
            # stored content does not depend on which URL the crawl reached first.
            self.frontier.record(final, request.url)
            self.frontier.add(canonical, request.depth, referrer=final)
            if links is not None and request.depth < self.config.max_depth:
                self._follow(links.links, request.depth + 1, final)
            self.frontier.refuse(request.url, DUPLICATE, f"alias of {canonical}", request.referrer)
            return None
        if not self.frontier.record(uri, final, request.url):
            self.frontier.refuse(request.url, DUPLICATE, f"same page as {uri}", request.referrer)
            return None
        if links is not None and request.depth < self.config.max_depth:
            self._follow(links.links, request.depth + 1, final)
        if result.not_modified:
            self.stats.not_modified += 1
        self.stats.pages += 1
        self.stats.bytes += len(result.body)
        fingerprint = (
            result.fingerprint or web_fingerprint(etag, last_modified) or content_hash(result.body)
        )
        item = self._item(
            uri,
            size=None if result.not_modified else len(result.body),
            fingerprint=fingerprint,
            content_type=result.content_type,
            problem=(result.problem_code, result.problem) if result.problem else None,
        )
        return CrawledPage(item, result=result, depth=request.depth, referrer=request.referrer)

    def _take_done(self, request: Request, done: DonePage) -> CrawledPage | None:
        """A page stored by an earlier run of this job: its stored links are followed,
        nothing is requested."""
        if not self.frontier.record(request.url):
            return None
        if request.depth < self.config.max_depth:
            links = [url for link in done.links if (url := self._normalize(link))]
            self._follow(links, request.depth + 1, request.url)
        self.stats.pages += 1
        item = self._item(request.url, fingerprint=done.fingerprint)
        return CrawledPage(item, depth=request.depth, referrer=request.referrer)

    def _follow(self, links: list[str], depth: int, referrer: str) -> None:
        """Queue the links of a page; those robots.txt already forbids are refused at once,
        so they spend no page budget."""
        rules = None if self.config.ignore_robots else self.crawler.robots.cached(origin(referrer))
        agent = self.crawler.robots.agent
        for link in links:
            if self.frontier.known(link):
                continue
            if rules is not None and link.startswith(rules.origin + "/"):
                reason = rules.refusal(link, agent)
                if reason is not None:
                    self.frontier.refuse(link, BlockedByRobotsError.code, reason, referrer)
                    continue
            self.frontier.add(link, depth, referrer=referrer)

    def _item(
        self,
        uri: str,
        *,
        size: int | None = None,
        fingerprint: str | None = None,
        content_type: str | None = None,
        problem: tuple[str | None, str] | None = None,
    ) -> SourceItem:
        return SourceItem(
            source_id=self.source_id,
            uri=uri,
            size=size,
            fingerprint=fingerprint,
            content_type=content_type or guess_content_type(urlsplit(uri).path),
            problem_code=problem[0] if problem else None,
            problem=problem[1] if problem else None,
        )


class CrawledBatchSource:
    """One batch of crawled pages seen as a `Source`, so `ingest.pipeline.run_batch` takes it
    as is: `fetch` hands back the body already fetched, or raises the error that failed it."""

    def __init__(self, source_id: str, pages: list[CrawledPage]) -> None:
        self.source_id = source_id
        self._pages = {page.item.uri: page for page in pages}

    @property
    def items(self) -> list[SourceItem]:
        return [page.item for page in self._pages.values()]

    def discover(self, batch_size: int) -> Iterator[list[SourceItem]]:
        items = self.items
        for start in range(0, len(items), batch_size):
            yield items[start : start + batch_size]

    def fetch(self, item: SourceItem) -> bytes:
        page = self._pages.get(item.uri)
        if page is None:
            raise SourceAccessError(
                "not part of this crawled batch", source_id=self.source_id, uri=item.uri
            )
        if page.error is not None:
            raise page.error
        if page.result is None:
            raise SourceAccessError(
                "stored by an earlier run of this job, and changed since; not fetched again",
                source_id=self.source_id,
                uri=item.uri,
                retryable=True,
            )
        if page.result.not_modified:
            raise SourceAccessError(
                "not modified (HTTP 304): no body was fetched",
                source_id=self.source_id,
                uri=item.uri,
                retryable=False,
            )
        return page.result.body
