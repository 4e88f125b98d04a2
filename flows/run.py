"""What every ingest flow does around its batches: collect their results, close the
job, record the run and end in the state of the contract."""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect.client.schemas.objects import State
from prefect.filesystems import WritableFileSystem
from prefect.runtime import flow_run
from prefect.states import Completed, Failed

from ingest.errors import (
    IngestError,
    ItemsFailedError,
    TooManyDeletionsError,
    TooManyRejectedError,
)
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
from ingest.pipeline import BatchConfig
from ingest.processors import pipeline_version
from ingest.progress import ProgressReporter, attached_listeners
from ingest.settings import IngestSettings
from ingest.store import default_store_path
from ingest.store.base import Store
from ingest.validators import check_policy
from tasks.batch import BatchIncompleteError

from .adapters.artifacts import PrefectProgressListener, publish_run_summary
from .adapters.results import describe, resolve_storage
from .params import RunOptions


@dataclass
class RunSetup:
    """What a flow run sets up before its source: settings, ids, store, result storage,
    progress."""

    settings: IngestSettings
    run_id: str
    store_url: str
    reporter: ProgressReporter
    result_storage: WritableFileSystem | Path
    result_location: str
    started: float = field(default_factory=time.perf_counter)

    @property
    def result_ttl(self) -> timedelta:
        return timedelta(hours=self.settings.result_ttl_hours)


def start_run(flow_name: str, options: RunOptions) -> RunSetup:
    """Check the run's policy and result storage (bad settings fail before any work)
    and set it up."""
    # Prefect's large, long-lived heap makes every collection slow; items are
    # short-lived, so keep the collector off the objects that exist before the run.
    gc.freeze()
    check_policy(options.validation)
    settings = IngestSettings()
    location = settings.result_location(options.result_storage)
    storage = resolve_storage(location)
    return RunSetup(
        settings=settings,
        run_id=str(flow_run.id or "local"),
        store_url=options.store or settings.store or str(default_store_path()),
        reporter=ProgressReporter(
            [PrefectProgressListener(f"{flow_name}-progress"), *attached_listeners()]
        ),
        result_storage=storage,
        result_location=describe(location),
    )


def begin_job(
    store: Store, source_id: str, run: RunSetup, options: RunOptions, **shaping: Any
) -> BatchConfig:
    """Resume the source's unfinished job with the same output settings, or start one;
    the configuration every batch of this run shares (one process until the flow
    decides the worker count)."""
    version = pipeline_version()
    key = job_key(**shaping, options=options.shaping(), pipeline=version)
    return BatchConfig(
        store_url=run.store_url,
        job_id=store.begin_job(source_id, key),
        run_id=run.run_id,
        pipeline_version=version,
        validation=options.validation,
        chunking=options.chunking,
        full=options.full,
    )


def job_key(**shaping: Any) -> str:
    """What makes two runs the same job: everything that shapes the output."""
    return hashlib.sha256(json.dumps(shaping, sort_keys=True, default=str).encode()).hexdigest()


def result_of(value: object, items: list[SourceItem], logger: Any) -> BatchResult:
    """A batch task's result from the value its final state holds."""
    if isinstance(value, BatchResult):
        return value
    error = value
    if isinstance(error, BatchIncompleteError):
        result = error.result
    else:
        # The batch as a whole broke (the store refused the write, the worker
        # died): none of its items is done, each is reported with the cause.
        result = _whole_batch_failed(items, error)
    for failure in result.failures:
        logger.warning("%s failed at %s: %s", failure.uri, failure.stage, failure.message)
    return result


def _whole_batch_failed(items: list[SourceItem], error: object) -> BatchResult:
    if isinstance(error, IngestError):
        stage, message, retryable = error.stage or "batch", error.reason, error.retryable
    else:
        stage, message, retryable = "batch", str(error), True
    result = BatchResult()
    for item in items:
        failure = Failure(
            uri=item.uri,
            stage=stage,
            error_type=type(error).__name__,
            message=message,
            retryable=retryable,
        )
        result.record(ItemResult(uri=item.uri, outcome=Outcome.FAILED, failure=failure))
    return result


def rejected_share_exceeded(counts: Counts, limit: float | None) -> bool:
    """True when a limit is set and rejected/discovered is above it."""
    if limit is None or not counts.discovered:
        return False
    return counts.rejected > limit * counts.discovered


def delete_share_exceeded(unseen: int, live: int, limit: float) -> bool:
    """True when marking `unseen` of `live` items deleted is above the allowed share."""
    return live > 0 and unseen > limit * live


def finish_run(
    store: Store,
    run: RunSetup,
    options: RunOptions,
    *,
    flow: str,
    job_id: str,
    source_id: str,
    totals: BatchResult,
    parameters: dict[str, Any],
    complete_discovery: bool,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
    incomplete_reasons: list[str] | None = None,
) -> State[Any]:
    """Tombstone (only after a complete discovery, and within the delete guard), record
    the run, close the job when nothing failed, and return the final state carrying the
    report.

    The run ends Failed when items failed (the job stays open: the run is resumable),
    when a complete discovery would mark deleted more than `options.max_delete_share` of
    the source's live items (nothing is deleted and the job stays open, so a run with a
    higher share does the deletes), or when the rejected share is above
    `options.max_rejected_share` (the job is closed: rejections are final for their
    content).
    """
    notes: list[str] = []
    refused: tuple[int, int] | None = None
    if complete_discovery:
        refused = _tombstone_unseen(store, run, options, source_id, job_id, totals)
    else:
        why = "; ".join(incomplete_reasons or ["discovery was not complete"])
        notes.append(f"nothing was marked deleted for lack of a complete discovery: {why}")
        logger.warning("%s", notes[-1])
    report = _run_report(run, flow, totals, notes, options)
    guard = None
    if refused is not None:
        guard = TooManyDeletionsError(report, *refused, options.max_delete_share)
        report.state = "Failed"
        report.notes.append(guard.reason)
    store.record_run(report, job_id, source_id, parameters)
    run.reporter.finish()
    publish_run_summary(report)
    return _final_state(store, report, job_id, options, guard, logger)


def _tombstone_unseen(
    store: Store,
    run: RunSetup,
    options: RunOptions,
    source_id: str,
    job_id: str,
    totals: BatchResult,
) -> tuple[int, int] | None:
    """Mark deleted what this complete discovery did not see, unless that is above the
    delete guard's share: then nothing is deleted and (unseen, live) is returned."""
    unseen, live = store.count_unseen(source_id, job_id)
    if delete_share_exceeded(unseen, live, options.max_delete_share):
        return (unseen, live)
    deleted = len(store.tombstone_unseen(source_id, job_id, run.run_id))
    totals.counts.deleted += deleted
    run.reporter.record_outcome(Outcome.DELETED, deleted)
    return None


def _run_report(
    run: RunSetup, flow: str, totals: BatchResult, notes: list[str], options: RunOptions
) -> RunReport:
    discover = totals.phases.get(Stage.DISCOVER.value)
    if discover is not None:
        discover.items = totals.counts.discovered
    too_many_rejected = rejected_share_exceeded(totals.counts, options.max_rejected_share)
    return RunReport(
        run_id=run.run_id,
        flow=flow,
        state="Failed" if totals.counts.failed or too_many_rejected else "Completed",
        counts=totals.counts,
        failures=totals.failures,
        rejected=totals.rejected,
        skipped=totals.skipped,
        duration_s=round(time.perf_counter() - run.started, 3),
        phases=totals.phases,
        notes=notes,
    )


def _final_state(
    store: Store,
    report: RunReport,
    job_id: str,
    options: RunOptions,
    guard: TooManyDeletionsError | None,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
) -> State[Any]:
    """The run's end state by the contract; the job is closed only when nothing failed."""
    if guard is not None:
        # Nothing was deleted and the job stays open: the next run (with a higher
        # --max-delete-share) sees the same source and does the deletes.
        logger.error("%s", guard.reason)
        return Failed(message=guard.reason, data=guard)
    if report.counts.failed:
        error: IngestError = ItemsFailedError(report)
        return Failed(message=str(error), data=error)
    store.finish_job(job_id)
    if options.max_rejected_share is not None and rejected_share_exceeded(
        report.counts, options.max_rejected_share
    ):
        error = TooManyRejectedError(report, options.max_rejected_share)
        logger.error("%s", error)
        return Failed(message=str(error), data=error)
    summary = ", ".join(f"{k} {v}" for k, v in report.counts.model_dump().items() if v)
    return Completed(message=summary, data=report.model_dump(mode="json"))
