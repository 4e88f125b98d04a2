"""The `ingest-filesystem` flow: discover a folder, map batch tasks, tombstone, report."""

from __future__ import annotations

import gc
import hashlib
import json
import time
from collections import deque
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from prefect import flow, get_run_logger
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from ingest.errors import IngestError, ItemsFailedError
from ingest.models import (
    BatchResult,
    Counts,
    Failure,
    ItemResult,
    Outcome,
    RunReport,
    SourceItem,
    Stage,
)
from ingest.pipeline import is_current
from ingest.processors import pipeline_version
from ingest.settings import IngestSettings
from ingest.sources.filesystem import FilesystemSource
from ingest.store import default_store_path, open_store
from ingest.store.base import Store
from ingest.validators import check_policy
from tasks.batch import BatchIncompleteError, BatchSpec, configured_batch_task

from .params import FolderSource, RunOptions

FLOW_NAME = "ingest-filesystem"


@flow(
    name=FLOW_NAME,
    description="Ingest a folder: validate, process and store every file, incrementally.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),
    persist_result=False,
    validate_parameters=True,
)
def ingest_filesystem(source: FolderSource, options: RunOptions | None = None) -> State[Any]:
    """Returns the run report (a dict); with failed items the run ends Failed with
    an `ItemsFailedError` that carries the report."""
    options = options or RunOptions()
    started = time.perf_counter()
    # Prefect's large, long-lived heap makes every collection slow; items are
    # short-lived, so keep the collector off the objects that exist before the run.
    gc.freeze()
    settings = IngestSettings()
    run_id = str(flow_run.id or "local")
    config = source.config()
    config.check()
    check_policy(options.validation)
    folder = FilesystemSource(config)
    store_url = options.store or settings.store or str(default_store_path())
    store = open_store(store_url)
    try:
        version = pipeline_version()
        job_id = store.begin_job(folder.source_id, _job_key(source, options, version))
        spec = BatchSpec(
            source=config,
            store_url=store_url,
            job_id=job_id,
            pipeline_version=version,
            validation=options.validation,
            chunking=options.chunking,
            full=options.full,
        )
        totals = BatchResult()
        _ingest(folder, store, spec, options, settings, run_id, totals)
        discover_s = totals.phases.get(Stage.DISCOVER.value)
        deleted = store.tombstone_unseen(folder.source_id, job_id, run_id)
        totals.counts.deleted += len(deleted)
        if discover_s is not None:
            discover_s.items = totals.counts.discovered
        failed = totals.counts.failed
        report = RunReport(
            run_id=run_id,
            flow=FLOW_NAME,
            state="Failed" if failed else "Completed",
            counts=totals.counts,
            failures=totals.failures,
            rejected=totals.rejected,
            duration_s=round(time.perf_counter() - started, 3),
            phases=totals.phases,
        )
        parameters = {"source": source.model_dump(), "options": options.model_dump()}
        store.record_run(report, job_id, folder.source_id, parameters)
        if not failed:
            store.finish_job(job_id)
    finally:
        store.close()
    if failed:
        error = ItemsFailedError(report)
        return Failed(message=str(error), data=error)
    return Completed(message=_summary(report.counts), data=report.model_dump(mode="json"))


def _ingest(
    folder: FilesystemSource,
    store: Store,
    spec: BatchSpec,
    options: RunOptions,
    settings: IngestSettings,
    run_id: str,
    totals: BatchResult,
) -> None:
    logger = get_run_logger()
    batch_task = configured_batch_task(
        settings.resolved_results_dir(),
        timedelta(hours=settings.result_ttl_hours),
        options.retries,
        options.retry_delay_s,
    )
    in_flight: deque[tuple[list[SourceItem], PrefectFuture[BatchResult]]] = deque()
    for batch in _pending_batches(folder, store, spec, options, totals):
        if len(in_flight) >= options.concurrency:
            _collect(*in_flight.popleft(), totals, logger)
        in_flight.append((batch, batch_task.submit(batch, spec, run_id)))
    while in_flight:
        _collect(*in_flight.popleft(), totals, logger)


def _pending_batches(
    folder: FilesystemSource,
    store: Store,
    spec: BatchSpec,
    options: RunOptions,
    totals: BatchResult,
) -> Iterator[list[SourceItem]]:
    """Discover in pages, count what is already current, yield the rest in batches.

    Items written by an earlier run of the same job stay in the batches, so the
    batches are the same as that run's and their cached results are found.
    """
    pending: list[SourceItem] = []
    pages = folder.discover(options.batch_size)
    while True:
        started = time.perf_counter()
        page = next(pages, None)
        if page is None:
            break
        states = store.lookup(folder.source_id, [item.uri for item in page])
        store.mark_seen(folder.source_id, spec.job_id, [item.uri for item in page])
        totals.counts.discovered += len(page)
        for item in page:
            state = states.get(item.uri)
            if not spec.full and is_current(item, state) and state and state.job_id != spec.job_id:
                totals.counts.unchanged += 1
            else:
                pending.append(item)
        totals.time(Stage.DISCOVER.value, time.perf_counter() - started, 0)
        while len(pending) >= options.batch_size:
            yield pending[: options.batch_size]
            pending = pending[options.batch_size :]
    if pending:
        yield pending


def _collect(
    batch: list[SourceItem],
    future: PrefectFuture[BatchResult],
    totals: BatchResult,
    logger: Any,
) -> None:
    future.wait()
    state = future.state
    if state.is_completed():
        totals.merge(state.result())
        return
    error = state.result(raise_on_failure=False)
    if isinstance(error, BatchIncompleteError):
        result = error.result
    else:
        # The batch as a whole broke (the store refused the write, the worker
        # died): none of its items is done, each is reported with the cause.
        result = _whole_batch_failed(batch, error)
    totals.merge(result)
    for failure in result.failures:
        logger.warning("%s failed at %s: %s", failure.uri, failure.stage, failure.message)


def _whole_batch_failed(batch: list[SourceItem], error: object) -> BatchResult:
    if isinstance(error, IngestError):
        stage, message, retryable = error.stage or "batch", error.reason, error.retryable
    else:
        stage, message, retryable = "batch", str(error), True
    result = BatchResult()
    for item in batch:
        failure = Failure(
            uri=item.uri,
            stage=stage,
            error_type=type(error).__name__,
            message=message,
            retryable=retryable,
        )
        result.record(ItemResult(uri=item.uri, outcome=Outcome.FAILED, failure=failure))
    return result


def _job_key(source: FolderSource, options: RunOptions, version: str) -> str:
    """What makes two runs the same job: everything that shapes the output."""
    shaping = {
        "source": source.model_dump(mode="json", exclude={"path"}),
        "validation": options.validation.model_dump(mode="json"),
        "chunking": options.chunking.model_dump(mode="json"),
        "full": options.full,
        "pipeline": version,
    }
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()


def _summary(counts: Counts) -> str:
    return ", ".join(f"{name} {value}" for name, value in counts.model_dump().items() if value)
