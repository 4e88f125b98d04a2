"""The web batch task: crawled pages through `ingest.parallel.run_configured_batch`."""

from __future__ import annotations

import asyncio

from prefect import task
from prefect.cache_policies import NO_CACHE

from ingest.models import BatchResult
from ingest.parallel import run_configured_batch
from ingest.pipeline import BatchConfig
from ingest.sources.web import CrawledBatchSource, CrawledPage
from ingest.sources.web.auth import OriginAuth

from .batch import completed
from .cache import BatchCachePolicy


@task(
    name="ingest-pages",
    cache_policy=BatchCachePolicy(),
    persist_result=True,
    cache_result_in_memory=False,
)
async def ingest_pages(pages: list[CrawledPage], config: BatchConfig) -> BatchResult:
    # The crawler already retried transient fetch errors; the pages carry bodies or
    # errors, so running the batch again could not change a failure.
    source = CrawledBatchSource(pages[0].item.source_id, pages)
    items = source.items
    return completed(await asyncio.to_thread(run_configured_batch, items, source, config))


@task(
    name="load-credentials",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=0,
)
async def load_web_auth(name: str, seeds: list[str]) -> OriginAuth:
    """Load the credentials block `name` and bind it to its origins (the seeds' origins
    when the block names none). Its input is a block name, never a secret; its result
    stays in memory (not persisted, not cached, and it refuses to be pickled). A missing
    block or one of another type raises ConfigurationError."""
    from blocks import load_credentials

    block = await load_credentials(name)
    return await block.bind(seeds, label=name)
