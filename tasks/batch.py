"""The folder batch task: a thin Prefect wrapper around `ingest.parallel`, which runs
the batch in this process or in a worker process."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect import Task, task
from prefect.client.schemas.objects import State, TaskRun
from prefect.filesystems import WritableFileSystem

from ingest.errors import IngestError
from ingest.models import BatchResult, SourceItem
from ingest.parallel import run_configured_batch
from ingest.pipeline import BatchConfig
from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig

from .cache import BatchCachePolicy


class BatchIncompleteError(IngestError):
    """Some items of the batch failed; the others are committed.

    Raised so that the batch's result is not cached: a retry runs it again, and
    the items it already committed are recognised without being read again.
    """

    def __init__(self, result: BatchResult) -> None:
        failed = result.counts.failed
        retryable = any(f.retryable for f in result.failures)
        super().__init__(
            f"{failed} item(s) of the batch failed",
            stage="batch",
            retryable=retryable,
            details={"result": result},
        )

    @property
    def result(self) -> BatchResult:
        value: BatchResult = self.details["result"]
        return value

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.result,))


def _retry_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    try:
        state.result()
    except BatchIncompleteError as exc:
        return exc.retryable
    except IngestError as exc:
        return exc.retryable
    except Exception:
        return False
    return False


@task(
    name="ingest-batch",
    cache_policy=BatchCachePolicy(),
    persist_result=True,
    cache_result_in_memory=False,
    retry_condition_fn=_retry_transient,
)
def ingest_batch(
    items: list[SourceItem], source: FilesystemSourceConfig, config: BatchConfig
) -> BatchResult:
    return completed(run_configured_batch(items, FilesystemSource(source), config))


def completed(result: BatchResult) -> BatchResult:
    """The result, unless some item failed: then raise, so it is not cached."""
    if result.counts.failed:
        raise BatchIncompleteError(result)
    return result


def configured_batch_task(
    storage: WritableFileSystem | Path, ttl: timedelta, retries: int, retry_delay_s: float
) -> Task[..., BatchResult]:
    """The batch task persisting its results to `storage` (a folder or any Prefect
    filesystem block), reusable by a retry for `ttl`."""
    return ingest_batch.with_options(
        result_storage=storage,
        cache_expiration=ttl,
        retries=retries,
        retry_delay_seconds=retry_delay_s,
    )
