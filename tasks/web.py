"""The web batch task: crawled pages through `ingest.pipeline.run_batch`."""

from __future__ import annotations

import asyncio

from prefect import task

from ingest.models import BatchResult
from ingest.pipeline import run_batch
from ingest.sources.web import CrawledBatchSource, CrawledPage

from .batch import BatchSettings, completed
from .cache import BatchCachePolicy


@task(
    name="ingest-pages",
    cache_policy=BatchCachePolicy(),
    persist_result=True,
    cache_result_in_memory=False,
    tags=["ingest", "web"],
)
async def ingest_pages(
    pages: list[CrawledPage], settings: BatchSettings, run_id: str
) -> BatchResult:
    # The crawler already retried transient fetch errors; the pages carry bodies or
    # errors, so running the batch again could not change a failure.
    source = CrawledBatchSource(pages[0].item.source_id, pages)
    context = settings.context(source, run_id)
    return completed(await asyncio.to_thread(run_batch, source.items, context))
