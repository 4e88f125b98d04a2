"""The web source: a crawl in which discovery and fetching interleave, yielding batches of
fetched pages (item plus result, or item plus error) for the pipeline to validate, process
and store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

import httpx

from ...content_types import guess_content_type
from ...errors import ConfigurationError, ItemGoneError, ItemTooLargeError, SourceAccessError
from ...models import SourceItem, content_hash
from .auth import OriginAuth
from .config import WebSourceConfig
from .crawler import Crawler, FetchResult, web_fingerprint
from .errors import BlockedByRobotsError, RefusedError, SitemapError, error_code
from .frontier import (
    DUPLICATE,
    INVALID_URL,
    PAGE_BUDGET,
    SITEMAP_BUDGET,
    TOO_DEEP,
    Frontier,
    Kind,
    Refusal,
    Request,
)
from .hosts import SharedHostLimits
from .links import HTML_TYPES, extract_links
from .memory import CrawlMemory, DonePage, StoredSitemap
from .pages import CrawledPage, CrawlStats, SitemapFailure, SitemapFetched
from .sitemaps import looks_like_sitemap, parse_sitemap
from .urls import Scope, normalize_url, origin

#: Stored validators of a URL, (ETag, Last-Modified), for conditional requests.
ValidatorsLookup = Callable[[str], tuple[str | None, str | None] | None]

#: Pages already done in the job being resumed: they are not fetched again.
DoneLookup = Callable[[str], DonePage | None]

#: Examples kept of pages whose links are not known (the count is always kept).
MAX_UNKNOWN_EXAMPLES = 20

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
        memory: CrawlMemory | None = None,
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
        self.memory: CrawlMemory | None = None
        if memory is not None:
            self.use_memory(memory)
        #: Called with each sitemap read in full (the flow stores its URLs).
        self.on_sitemap: Callable[[SitemapFetched], None] | None = None
        #: Pages and sitemaps that failed with no stored links: what lies behind them
        #: is unknown, so the crawl cannot prove that it reached everything.
        self.unknown_links = 0
        self.unknown_examples: list[str] = []
        self._flush_after = flush_after
        self._in_flight = 0

    async def __aenter__(self) -> WebSource:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.crawler.aclose()

    def use_memory(self, memory: CrawlMemory) -> None:
        """Crawl with what the store knows: conditional requests, stored links behind a
        304 or a failure, and the pages of the job being resumed."""
        self.memory = memory
        self.validators = memory.validators
        self.done = memory.done

    @property
    def refusals(self) -> list[Refusal]:
        return self.frontier.refusals

    def incomplete_reasons(self) -> list[str]:
        """Why this crawl cannot prove that it reached every page the previous crawl of
        the site reached (empty: it can, and a stored page it did not reach is gone)."""
        reasons: list[str] = []
        counts = self.frontier.refusal_counts
        if counts.get(PAGE_BUDGET):
            reasons.append(
                f"the page budget (max_pages={self.config.max_pages}) cut the crawl: "
                f"{counts[PAGE_BUDGET]} URL(s) not requested"
            )
        if counts.get(SITEMAP_BUDGET):
            reasons.append(
                f"the sitemap budget (max_sitemaps={self.config.max_sitemaps}) cut the crawl: "
                f"{counts[SITEMAP_BUDGET]} sitemap(s) not read"
            )
        deep = [r.url for r in self.frontier.refusals if r.code == TOO_DEEP]
        deep_stored = [url for url in deep if self.memory and self.memory.is_stored(url)]
        if deep_stored or counts.get(TOO_DEEP, 0) > len(deep):
            reasons.append(
                f"the depth limit (max_depth={self.config.max_depth}) cut the crawl "
                f"before page(s) an earlier crawl stored, e.g. {(deep_stored or deep)[0]}"
            )
        if self.unknown_links:
            examples = ", ".join(self.unknown_examples[:3])
            reasons.append(
                f"{self.unknown_links} page(s) or sitemap(s) failed and their links are not "
                f"known: {examples}"
            )
        for site, reason in self.crawler.robots.failures().items():
            reasons.append(f"{site}/robots.txt could not be read: {reason}")
        return reasons

    def _unknown(self, url: str, reason: str) -> None:
        self.unknown_links += 1
        if len(self.unknown_examples) < MAX_UNKNOWN_EXAMPLES:
            self.unknown_examples.append(f"{url} ({reason})")

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
        stored_sitemap = None
        if self.memory is not None and (request.kind is Kind.SITEMAP or request.seed):
            stored_sitemap = self.memory.sitemap(url)  # a seed may be a sitemap
        etag = last_modified = None
        if stored_sitemap is not None:
            etag, last_modified = stored_sitemap.validators
        elif self.validators is not None and request.kind is Kind.PAGE:
            etag, last_modified = self.validators(url) or (None, None)
        try:
            result = await self._fetch(request, etag, last_modified)
            if result.not_modified and stored_sitemap is None and self._links_of(url) is None:
                if self.memory is not None:
                    # Nothing stored says where this page leads: fetch it in full, once.
                    etag = last_modified = None
                    result = await self._fetch(request, None, None)
                else:
                    self._unknown(url, "not modified (HTTP 304) and its links are not stored")
        except RefusedError as exc:
            self.frontier.refuse(url, exc.code, exc.reason, request.referrer)
            self.frontier.release(request)
            return None
        except SourceAccessError as exc:
            if request.kind is Kind.SITEMAP or stored_sitemap is not None:
                self.sitemap_failures.append(SitemapFailure(url, error_code(exc), exc.reason))
                if isinstance(exc, ItemGoneError):
                    return None  # gone, and what it listed with it
                if stored_sitemap is not None:
                    self._reuse_sitemap(request, stored_sitemap)
                else:
                    self._unknown(url, exc.reason)
                return None
            self.frontier.record(url)
            self.stats.failed += 1
            self._follow_stored(request, exc)
            return CrawledPage(
                self._item(url), error=exc, depth=request.depth, referrer=request.referrer
            )
        if stored_sitemap is not None and result.not_modified:
            self._reuse_sitemap(request, stored_sitemap)
            return None
        if request.kind is Kind.SITEMAP or (request.seed and self._is_sitemap(result)):
            self._take_sitemap(request, result)
            return None
        return self._take_page(request, result, etag, last_modified)

    async def _fetch(
        self, request: Request, etag: str | None, last_modified: str | None
    ) -> FetchResult:
        sitemap = request.kind is Kind.SITEMAP
        return await self.crawler.fetch(
            request.url,
            etag,
            last_modified,
            max_bytes=self.config.max_sitemap_bytes if sitemap else None,
            sitemap=sitemap,
        )

    def _links_of(self, url: str) -> tuple[str, ...] | None:
        return self.memory.links(url) if self.memory is not None else None

    def _follow_stored(self, request: Request, exc: SourceAccessError) -> None:
        """A page that failed is followed through its stored links; a page that is gone
        leads nowhere; any other failure leaves what lies behind it unknown."""
        if isinstance(exc, ItemGoneError) or _has_no_links(exc):
            return
        links = self._links_of(request.url)
        if links is None:
            self._unknown(request.url, exc.reason)
        elif request.depth < self.config.max_depth:
            self._follow(list(links), request.depth + 1, request.url)

    def _reuse_sitemap(self, request: Request, stored: StoredSitemap) -> None:
        self.stats.sitemaps += 1
        kind = Kind.PAGE if stored.kind == "urlset" else Kind.SITEMAP
        for url in stored.urls:
            self.frontier.add(url, 0, kind, referrer=request.url)

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
        urls: list[str] = []
        for loc in sitemap.urls:
            url = self._normalize(loc)
            if url is None:
                self.frontier.refuse(loc, INVALID_URL, "not an http(s) URL", request.url)
            else:
                urls.append(url)
                self.frontier.add(url, 0, kind, referrer=request.url)
        if self.on_sitemap is not None:
            fetched = SitemapFetched(request.url, sitemap.kind, result.fingerprint, tuple(urls))
            self.on_sitemap(fetched)

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
        if result.not_modified:
            stored = self._links_of(request.url) or ()
            if request.depth < self.config.max_depth:
                self._follow(list(stored), request.depth + 1, final)
        elif links is not None and request.depth < self.config.max_depth:
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
            # Kept with the page, so that a 304 later leads where this body led; a body
            # with no links (not HTML) is known to lead nowhere. A 304 keeps what is stored.
            links=None
            if result.not_modified
            else tuple(link for link in (links.links if links else ()) if link in self.scope),
        )
        return CrawledPage(item, result=result, depth=request.depth, referrer=request.referrer)

    def _take_done(self, request: Request, done: DonePage) -> CrawledPage | None:
        """A page stored by an earlier run of this job: its stored links are followed,
        nothing is requested."""
        if not self.frontier.record(request.url):
            return None
        if request.depth < self.config.max_depth:
            self._follow(list(done.links), request.depth + 1, request.url)
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
        links: tuple[str, ...] | None = None,
    ) -> SourceItem:
        return SourceItem(
            source_id=self.source_id,
            uri=uri,
            size=size,
            fingerprint=fingerprint,
            content_type=content_type or guess_content_type(urlsplit(uri).path),
            problem_code=problem[0] if problem else None,
            problem=problem[1] if problem else None,
            links=links,
        )


def _has_no_links(exc: SourceAccessError) -> bool:
    """A response refused for its size whose declared type is not HTML (a PDF, a deck)
    leads nowhere: nothing behind it is left unknown."""
    declared = exc.details.get("content_type") if isinstance(exc, ItemTooLargeError) else None
    return declared is not None and declared not in HTML_TYPES
