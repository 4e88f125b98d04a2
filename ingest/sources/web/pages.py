"""What a crawl yields: its pages (item plus fetch result, or the error that failed it),
the sitemaps it read and failed, its statistics, and a batch of pages seen as a `Source`
for the pipeline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from ...errors import SourceAccessError
from ...models import SourceItem
from .crawler import FetchResult


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


@dataclass(frozen=True, slots=True)
class SitemapFetched:
    """A sitemap read in full: what to store so that a 304 later reuses its URLs."""

    url: str
    kind: str
    fingerprint: str | None
    urls: tuple[str, ...]


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
