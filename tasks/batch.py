"""The batch task: a thin Prefect wrapper around `ingest.pipeline.run_batch`."""

from __future__ import annotations

import functools
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect import Task, task
from prefect.client.schemas.objects import State, TaskRun
from prefect.filesystems import WritableFileSystem
from pydantic import BaseModel, Field

from ingest.errors import IngestError
from ingest.models import BatchResult, SourceItem
from ingest.parallel import BatchJob, cpu_pool, run_batch_in_pool
from ingest.pipeline import BatchContext, run_batch
from ingest.processors.base import ChunkPolicy
from ingest.sources.base import Source
from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig
from ingest.store import open_store
from ingest.store.base import Store
from ingest.validators import ValidationPolicy

from .cache import BatchCachePolicy


class BatchSettings(BaseModel):
    """What every batch of one run shares, whatever the source. Holds no secrets."""

    store_url: str
    job_id: str
    pipeline_version: str
    validation: ValidationPolicy = Field(default_factory=ValidationPolicy)
    chunking: ChunkPolicy = Field(default_factory=ChunkPolicy)
    full: bool = False
    workers: int = Field(default=1, description="Processes for content work (not in cache keys).")

    def context(self, source: Source, run_id: str) -> BatchContext:
        return BatchContext(
            source=source,
            store=_store(self.store_url),
            job_id=self.job_id,
            run_id=run_id,
            validation=self.validation,
            chunking=self.chunking,
            full=self.full,
            cpu_pool=cpu_pool(self.workers),
        )

    def run(self, items: list[SourceItem], source: Source, run_id: str) -> BatchResult:
        """Run the batch: in this process with one worker, else whole (read, process,
        write) in a worker process; `source` must then pickle."""
        pool = cpu_pool(self.workers)
        if pool is None:
            return run_batch(items, self.context(source, run_id))
        job = BatchJob(
            items=items,
            source=source,
            store_url=self.store_url,
            job_id=self.job_id,
            run_id=run_id,
            validation=self.validation,
            chunking=self.chunking,
            full=self.full,
        )
        return run_batch_in_pool(pool, job)


class BatchSpec(BatchSettings):
    """The settings of a folder's batches: the folder too."""

    source: FilesystemSourceConfig


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


@functools.lru_cache(maxsize=8)
def _store(url: str) -> Store:
    # One engine per process and store: a batch must not pay for a new connection pool.
    return open_store(url)


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
def ingest_batch(items: list[SourceItem], settings: BatchSpec, run_id: str) -> BatchResult:
    return completed(settings.run(items, FilesystemSource(settings.source), run_id))


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
