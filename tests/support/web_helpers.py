"""Helpers of the web source tests: fast test settings and running a whole crawl."""

from __future__ import annotations

import asyncio
from typing import Any

from ingest.models import BatchResult
from ingest.pipeline import BatchConfig, BatchContext, run_batch
from ingest.sources.web import (
    CrawledBatchSource,
    CrawledPage,
    Crawler,
    FetchResult,
    WebSource,
    WebSourceConfig,
)
from ingest.store.base import Store

FAST: dict[str, Any] = {
    "allow_private_network": True,
    "connect_timeout": 2.0,
    "read_timeout": 2.0,
    "request_deadline": 5.0,
    "backoff_base": 0.01,
    "backoff_max": 0.05,
}


def config(seeds: list[str], **options: Any) -> WebSourceConfig:
    return WebSourceConfig(seeds=seeds, **{**FAST, **options})


def crawl(cfg: WebSourceConfig, batch_size: int = 50) -> tuple[WebSource, list[CrawledPage]]:
    async def main() -> tuple[WebSource, list[CrawledPage]]:
        pages: list[CrawledPage] = []
        async with WebSource(cfg) as source:
            async for batch in source.crawl(batch_size):
                assert 0 < len(batch) <= batch_size
                pages.extend(batch)
        return source, pages

    return asyncio.run(main())


def fetch(cfg: WebSourceConfig, url: str, **kwargs: Any) -> FetchResult:
    async def main() -> FetchResult:
        async with Crawler(cfg) as crawler:
            return await crawler.fetch(url, **kwargs)

    return asyncio.run(main())


def crawl_through_pipeline(
    cfg: WebSourceConfig, store: Store, job: str, batch_size: int = 10
) -> BatchResult:
    """Crawl and take every batch through the pipeline into `store`, as the web flow's
    tasks do, without Prefect; the merged result of every batch."""

    async def main() -> BatchResult:
        total = BatchResult()
        async with WebSource(cfg) as source:
            job_id = store.begin_job(source.source_id, job)
            async for pages in source.crawl(batch_size):
                batch = CrawledBatchSource(source.source_id, pages)
                ctx = BatchContext(
                    source=batch, store=store, config=BatchConfig(job_id=job_id, run_id="r")
                )
                total.merge(run_batch(batch.items, ctx))
            store.finish_job(job_id)
        return total

    return asyncio.run(main())
