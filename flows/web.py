"""The `ingest-web` flow: crawl a site and take its pages through the pipeline in batches.

Discovery and fetching interleave: the crawl runs in the flow's event loop and
yields batches of fetched pages, each validated, processed and stored by an
`ingest-pages` task while the crawl goes on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Coroutine
from contextlib import aclosing, asynccontextmanager
from typing import Any, cast
from uuid import UUID

from prefect import get_run_logger
from prefect.client.schemas.objects import State
from prefect.utilities.annotations import quote

from ingest.form_fields import OptionalText
from ingest.models import BatchResult, Stage
from ingest.pipeline import BatchConfig
from ingest.progress import (
    end_discovery,
    record_batch,
    record_discovered,
)
from ingest.sources.web import CrawledPage, WebSource, WebSourceConfig
from ingest.sources.web.auth import OriginAuth
from ingest.sources.web.memory import CrawlMemory
from ingest.sources.web.pages import SitemapFetched
from ingest.store import StoredLinks, open_store
from ingest.store.base import Store
from tasks.web import ingest_pages, load_web_auth

from .adapters.flow_class import ingest_flow
from .adapters.host_limits import PrefectHostLimits
from .params import SITE_RUN_OPTIONS, RunOptions, SiteRunOptions
from .run import RunSetup, begin_job, finish_run, result_of, start_run
from .runners import sized_for

FLOW_NAME = "ingest-web"


@ingest_flow(
    name=FLOW_NAME,
    description="Crawl a web site politely and ingest its pages, incrementally.",
    persist_result=False,
    validate_parameters=True,
)
async def ingest_web(
    site: WebSourceConfig,
    options: SiteRunOptions = SITE_RUN_OPTIONS,
    auth: OptionalText = "",
) -> State[Any]:
    """Returns the run report (a dict); with failed pages the run ends Failed with an
    `RunFailedError` that carries the report.

    `auth` names a credentials block (see `blocks/`), loaded inside a task: a secret is
    never a flow parameter (empty: none). A missing block fails the run before any request;
    credentials refused by the site end it early with `AuthenticationError`."""
    run = start_run(FLOW_NAME, options)
    logger = get_run_logger()
    site.check()
    web_auth = await load_web_auth(auth, site.seeds) if auth else None
    with open_store(run.store_url) as store, run.reporter:
        web, shared_limits, batch_config = _prepared_source(site, web_auth, store, run, options)
        totals = await _crawl_in_batches(
            web, shared_limits, store, run, options, batch_config, logger
        )
        _log_refusals(web, logger)
        incomplete = web.incomplete_reasons()
        return finish_run(
            store,
            run,
            options,
            flow=FLOW_NAME,
            job_id=batch_config.job_id,
            source_id=web.source_id,
            totals=totals,
            parameters={"site": site.model_dump(), "options": options.model_dump()},
            complete_discovery=not incomplete,
            incomplete_reasons=incomplete,
            logger=logger,
        )


def _prepared_source(
    site: WebSourceConfig,
    web_auth: OriginAuth | None,
    store: Store,
    run: RunSetup,
    options: RunOptions,
) -> tuple[WebSource, PrefectHostLimits, BatchConfig]:
    """The crawl's source with its job begun: per-host limits shared with other runs,
    what earlier crawls stored, and sitemaps saved as they are read."""
    shared_limits = PrefectHostLimits(site, holder=_uuid_or_none(run.run_id))
    web = WebSource(site, auth=web_auth, shared_limits=shared_limits)
    batch_config = begin_job(
        store,
        web.source_id,
        run,
        options,
        site=site.model_dump(mode="json", exclude={"user_agent"}),
    )
    web.use_memory(_crawl_memory(store, web.source_id, batch_config.job_id))
    if options.full:
        web.validators = None  # --full reprocesses every page: it needs their bodies
    web.on_sitemap = _sitemap_saver(store, web.source_id)
    return web, shared_limits, batch_config


async def _crawl_in_batches(
    web: WebSource,
    shared_limits: PrefectHostLimits,
    store: Store,
    run: RunSetup,
    options: RunOptions,
    batch_config: BatchConfig,
    logger: Any,
) -> BatchResult:
    """Crawl, handing each batch of pages to an `ingest-pages` task while the crawl goes
    on (at most `options.concurrency` in flight); the merged results of every batch."""
    reporter = run.reporter
    await shared_limits.start(batch_config.job_id)
    totals = BatchResult()
    in_flight: set[asyncio.Task[BatchResult]] = set()
    pages_task = ingest_pages.with_options(
        result_storage=run.result_storage, cache_expiration=run.result_ttl
    )

    async def ingest(pages: list[CrawledPage], config: BatchConfig) -> BatchResult:
        # quote: Prefect would otherwise walk every page, body and header looking for
        # futures, twice per task run.
        call = pages_task(quote(pages), config, return_state=True)
        # Prefect annotates this call as returning State; for an async task it returns
        # a coroutine of the State (prefect 3.9 tasks.py `__call__` overloads).
        state = await cast("Coroutine[Any, Any, State[BatchResult]]", call)
        value = await state.aresult(raise_on_failure=False)
        result = result_of(value, [page.item for page in pages], logger)
        record_batch(reporter, [page.item for page in pages], result.counts)
        return result

    # A worker count given: its processes import their parsers while the crawl starts;
    # automatic (0): decided with the pages crawled so far, as the crawl goes.
    batch_config = sized_for(batch_config, options.workers, 0, logger)
    async with web, aclosing(shared_limits), _drained_on_error(in_flight):
        crawl_started = time.perf_counter()
        async for pages in web.crawl(options.batch_size):
            uris = [page.item.uri for page in pages]
            store.mark_seen(web.source_id, batch_config.job_id, uris)
            totals.counts.discovered += len(pages)
            record_discovered(reporter, len(pages), len(pages))
            while len(in_flight) >= options.concurrency:
                done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    in_flight.discard(task)
                    totals.merge(task.result())
            batch_config = sized_for(
                batch_config, options.workers, totals.counts.discovered, logger
            )
            in_flight.add(asyncio.create_task(ingest(pages, batch_config)))
        end_discovery(reporter)
        for result in await asyncio.gather(*in_flight):
            totals.merge(result)
        totals.time(Stage.DISCOVER.value, time.perf_counter() - crawl_started, 0)
    return totals


def _crawl_memory(store: Store, source_id: str, job_id: str) -> CrawlMemory:
    """What the store knows of the site, read once per crawl in two queries (bounded by
    the stored pages and their links): validators for conditional requests, the links
    and sitemap URLs to follow behind a 304, and the pages of the job being resumed."""
    return CrawlMemory(store.iter_items(source_id), store.iter_links(source_id), job_id)


def _sitemap_saver(store: Store, source_id: str) -> Any:
    def save(sitemap: SitemapFetched) -> None:
        record = StoredLinks(
            url=sitemap.url,
            kind=sitemap.kind,
            fingerprint=sitemap.fingerprint,
            links=list(sitemap.urls),
        )
        store.save_links(source_id, [record])

    return save


def _log_refusals(web: WebSource, logger: Any) -> None:
    counts = web.frontier.refusal_counts
    if counts:
        summary = ", ".join(f"{code} {n}" for code, n in sorted(counts.items()))
        logger.info("URLs not requested: %s", summary)
    for failure in web.sitemap_failures:
        logger.warning("sitemap %s: %s", failure.url, failure.reason)


def _uuid_or_none(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


@asynccontextmanager
async def _drained_on_error(in_flight: set[asyncio.Task[BatchResult]]) -> AsyncIterator[None]:
    """When the crawl stops on an error (credentials refused), the batches already handed
    to tasks finish before the error ends the run, so none is left half-written."""
    try:
        yield
    except BaseException:
        await asyncio.gather(*in_flight, return_exceptions=True)
        raise
