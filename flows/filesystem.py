"""The `ingest-filesystem` flow: discover a folder, map batch tasks, tombstone, report."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from typing import Any, cast

from prefect import get_run_logger
from prefect.client.schemas.objects import State
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from ingest.models import BatchResult, SourceItem, Stage
from ingest.parallel import discovery_turn, most_workers
from ingest.pipeline import BatchConfig, is_current
from ingest.progress import (
    ProgressReporter,
    end_discovery,
    record_batch,
    record_discovered,
)
from ingest.sources.filesystem import FilesystemSource
from ingest.store import open_store
from ingest.store.base import Store
from tasks.batch import configured_batch_task

from .adapters.flow_class import ingest_flow
from .params import FOLDER_RUN_OPTIONS, FolderRunOptions, FolderSource, RunOptions
from .run import RunSetup, begin_job, finish_run, result_of, start_run
from .runners import batch_runner, describe_runner, local_workers, sized_for

FLOW_NAME = "ingest-filesystem"


@ingest_flow(
    name=FLOW_NAME,
    description="Ingest a folder: validate, process and store every file, incrementally.",
    # Prefect annotates this parameter as TaskRunner[PrefectFuture[Any]], which no
    # concrete runner matches (TaskRunner is invariant in its future type).
    task_runner=cast("TaskRunner[PrefectFuture[Any]]", ThreadPoolTaskRunner[Any](max_workers=8)),
    persist_result=False,
    validate_parameters=True,
)
def ingest_filesystem(
    source: FolderSource, options: FolderRunOptions = FOLDER_RUN_OPTIONS
) -> State[Any]:
    """Returns the run report (a dict); with failed items the run ends Failed with
    a `RunFailedError` that carries the report."""
    run = start_run(FLOW_NAME, options)
    in_flight_max = batches_in_flight(options)
    runner_options = options.model_copy(update={"concurrency": in_flight_max})
    runner = batch_runner(runner_options)
    logger = get_run_logger()
    config = source.config()
    config.check()
    folder = FilesystemSource(config)
    logger.info(
        "batches run on %s; their results persist to %s",
        describe_runner(runner_options),
        run.result_location,
    )
    with open_store(run.store_url) as store, run.reporter:
        batch_config = begin_job(
            store,
            folder.source_id,
            run,
            options,
            source=source.model_dump(mode="json", exclude={"root"}),
        )
        with runner:
            totals = _run_batches(folder, store, batch_config, options, run, runner, logger)
        return finish_run(
            store,
            run,
            options,
            flow=FLOW_NAME,
            job_id=batch_config.job_id,
            source_id=folder.source_id,
            totals=totals,
            parameters={
                "source": source.model_dump(),
                "options": options.model_dump(),
            },
            complete_discovery=True,
            logger=logger,
        )


def _run_batches(
    folder: FilesystemSource,
    store: Store,
    batch_config: BatchConfig,
    options: RunOptions,
    run: RunSetup,
    runner: Any,
    logger: Any,
) -> BatchResult:
    """Submit the pending batches as discovery yields them, at most `batches_in_flight`
    at once; the merged results of every batch."""
    # A worker count given: its processes import their parsers while discovery runs.
    batch_config = sized_for(batch_config, local_workers(options), 0, logger)
    in_flight_max = batches_in_flight(options)
    totals = BatchResult()
    batch_task = configured_batch_task(
        run.result_storage, run.result_ttl, options.retries, options.retry_delay_s
    )
    in_flight: deque[tuple[list[SourceItem], PrefectFuture[BatchResult]]] = deque()
    queued = 0
    for batch in _pending_batches(folder, store, batch_config, options, totals, run.reporter):
        if len(in_flight) >= in_flight_max:
            totals.merge(_wait(*in_flight.popleft(), run.reporter, logger))
        # The worker count follows the items to process so far (not the unchanged
        # ones: a run that changes one file of thousands needs no pool).
        queued += len(batch)
        batch_config = sized_for(batch_config, local_workers(options), queued, logger)
        parameters = {
            "items": _unwalked(batch, options),
            "source": folder.config,
            "config": batch_config,
        }
        in_flight.append((batch, runner.submit(batch_task, parameters)))
    while in_flight:
        totals.merge(_wait(*in_flight.popleft(), run.reporter, logger))
    return totals


def batches_in_flight(options: RunOptions) -> int:
    """How many batches the flow keeps submitted at once: `concurrency`, and with
    worker processes (which run whole batches) at least two per worker, so that a
    worker finds its next batch queued instead of idling while the flow and the API
    settle the last one."""
    workers = most_workers(local_workers(options))
    if workers > 1 and options.task_runner == "thread":
        return max(options.concurrency, 2 * workers)
    return options.concurrency


def _unwalked(batch: list[SourceItem], options: RunOptions) -> object:
    """The batch as a task parameter that Prefect does not walk (and copy) item by item
    looking for futures, at each task run. Dask's serialisation turns the `quote`
    wrapper into a plain tuple, so batches for Dask go as they are."""
    return batch if options.task_runner == "dask" else quote(batch)


def _wait(
    batch: list[SourceItem],
    future: PrefectFuture[BatchResult],
    reporter: ProgressReporter,
    logger: Any,
) -> BatchResult:
    value: object
    try:
        value = future.result(raise_on_failure=False)
    except Exception as exc:  # the runner lost the task (a Dask worker died too often)
        value = exc
    result = result_of(value, batch, logger)
    record_batch(reporter, batch, result.counts)
    return result


def _pending_batches(
    folder: FilesystemSource,
    store: Store,
    config: BatchConfig,
    options: RunOptions,
    totals: BatchResult,
    reporter: ProgressReporter,
) -> Iterator[list[SourceItem]]:
    """Discover in pages, count what is already current, yield the rest in batches.

    Items written by an earlier run of the same job stay in the batches, so the
    batches are the same as that run's and their cached results are found.
    """
    pending: list[SourceItem] = []
    pages = folder.discover(options.batch_size)
    workers = most_workers(local_workers(options))
    while True:
        with discovery_turn(workers):
            started = time.perf_counter()
            page = next(pages, None)
            if page is None:
                break
            states = store.lookup(folder.source_id, [item.uri for item in page])
            # Only stored items can be tombstoned; a new one has no row to mark yet.
            if states:
                store.mark_seen(folder.source_id, config.job_id, list(states))
        totals.counts.discovered += len(page)
        unchanged = 0
        for item in page:
            state = states.get(item.uri)
            current = is_current(item, state) and state and state.job_id != config.job_id
            if not config.full and current:
                unchanged += 1
            else:
                pending.append(item)
        totals.counts.unchanged += unchanged
        record_discovered(reporter, len(page), len(page) - unchanged, unchanged)
        totals.time(Stage.DISCOVER.value, time.perf_counter() - started, 0)
        while len(pending) >= options.batch_size:
            yield pending[: options.batch_size]
            pending = pending[options.batch_size :]
    end_discovery(reporter)
    if pending:
        yield pending
