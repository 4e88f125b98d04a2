"""The `ingest-web` flow: crawl a site and take its pages through the pipeline in batches.

Discovery and fetching interleave: the crawl runs in the flow's event loop and
yields batches of fetched pages, each validated, processed and stored by an
`ingest-pages` task while the crawl goes on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from typing import Any
from uuid import UUID

from prefect import flow, get_run_logger
from prefect.client.schemas.objects import State
from prefect.utilities.annotations import quote

from ingest.models import BatchResult, Stage
from ingest.parallel import start_workers
from ingest.progress import (
    end_discovery,
    record_batch,
    record_discovered,
)
from ingest.sources.web import CrawledPage, WebSource, WebSourceConfig
from ingest.sources.web.crawler import validators_from_fingerprint
from ingest.sources.web.frontier import PAGE_BUDGET
from ingest.sources.web.source import DoneLookup, DonePage, ValidatorsLookup
from ingest.store import open_store
from ingest.store.base import Store
from tasks.web import ingest_pages, load_web_auth

from .host_limits import PrefectHostLimits
from .params import RunOptions
from .run import begin_job, finish_run, result_of, start_run

FLOW_NAME = "ingest-web"


@flow(
    name=FLOW_NAME,
    description="Crawl a web site politely and ingest its pages, incrementally.",
    persist_result=False,
    validate_parameters=True,
)
async def ingest_web(
    site: WebSourceConfig, options: RunOptions | None = None, auth: str | None = None
) -> State[Any]:
    """Returns the run report (a dict); with failed pages the run ends Failed with an
    `RunFailedError` that carries the report.

    `auth` names a credentials block (see `blocks/`), loaded inside a task: a secret is
    never a flow parameter. A missing block fails the run before any request; credentials
    refused by the site end it early with `AuthenticationError`."""
    options = options or RunOptions(batch_size=50)
    run = start_run(FLOW_NAME, options)
    logger = get_run_logger()
    site.check()
    web_auth = await load_web_auth(auth, site.seeds) if auth else None
    reporter = run.reporter
    with open_store(run.store_url) as store, reporter:
        shared_limits = PrefectHostLimits(site, holder=_uuid_or_none(run.run_id))
        web = WebSource(site, auth=web_auth, shared_limits=shared_limits)
        batch_settings = begin_job(
            store,
            web.source_id,
            run.store_url,
            options,
            site=site.model_dump(mode="json", exclude={"user_agent"}),
        )
        web.validators, web.done = _stored_pages(store, web.source_id, batch_settings.job_id)
        await shared_limits.start(batch_settings.job_id)
        totals = BatchResult()
        in_flight: set[asyncio.Task[BatchResult]] = set()
        pages_task = ingest_pages.with_options(
            result_storage=run.result_storage, cache_expiration=run.result_ttl
        )

        async def ingest(pages: list[CrawledPage]) -> BatchResult:
            # quote: Prefect would otherwise walk every page, body and header looking for
            # futures, twice per task run.
            state = await pages_task(quote(pages), batch_settings, run.run_id, return_state=True)
            value = await state.aresult(raise_on_failure=False)
            result = result_of(value, [page.item for page in pages], logger)
            record_batch(reporter, [page.item for page in pages], result.counts)
            return result

        start_workers(options.workers)  # they import their parsers while the crawl starts
        async with web, aclosing(shared_limits), _drained_on_error(in_flight):
            crawl_started = time.perf_counter()
            async for pages in web.crawl(options.batch_size):
                uris = [page.item.uri for page in pages]
                store.mark_seen(web.source_id, batch_settings.job_id, uris)
                totals.counts.discovered += len(pages)
                record_discovered(reporter, len(pages), len(pages))
                while len(in_flight) >= options.concurrency:
                    done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        in_flight.discard(task)
                        totals.merge(task.result())
                in_flight.add(asyncio.create_task(ingest(pages)))
            end_discovery(reporter)
            for result in await asyncio.gather(*in_flight):
                totals.merge(result)
            totals.time(Stage.DISCOVER.value, time.perf_counter() - crawl_started, 0)
        _log_refusals(web, logger)
        complete = not web.frontier.refusal_counts.get(PAGE_BUDGET)
        return finish_run(
            store,
            run,
            options,
            flow=FLOW_NAME,
            job_id=batch_settings.job_id,
            source_id=web.source_id,
            totals=totals,
            parameters={"site": site.model_dump(), "options": options.model_dump()},
            complete_discovery=complete,
            logger=logger,
        )


def _stored_pages(store: Store, source_id: str, job_id: str) -> tuple[ValidatorsLookup, DoneLookup]:
    """What the store knows, read once per crawl (bounded by max_pages): the stored
    ETag/Last-Modified for conditional requests, and the pages an earlier run of this
    job stored, which a resumed crawl does not fetch again (their stored links are
    followed instead)."""
    validators: dict[str, tuple[str | None, str | None]] = {}
    done: dict[str, str] = {}
    for state in store.iter_items(source_id):
        if state.deleted or not state.fingerprint:
            continue
        validators[state.uri] = validators_from_fingerprint(state.fingerprint)
        if state.job_id == job_id:
            done[state.uri] = state.fingerprint

    def done_page(url: str) -> DonePage | None:
        fingerprint = done.get(url)
        if fingerprint is None:
            return None
        document = store.get_document(source_id, url)
        links = document.metadata.get("links", []) if document is not None else []
        return DonePage(fingerprint=fingerprint, links=[str(link) for link in links])

    return validators.get, done_page


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
