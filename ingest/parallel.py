"""The process pool for the CPU work of batches, shared by all batches of a process,
and whole batches run in it.

Threads gain nothing on CPU work under the GIL (and `ast.parse` from several
threads crashes CPython 3.11), so content work goes to processes. Workers are
spawned, not forked: the parent runs Prefect's threads, which a fork would copy
in an unknown state.

A folder's batch runs whole in a worker (`run_batch_in_pool`): the worker reads,
hashes, processes and writes the batch to the store itself, and hands back only the
small `BatchResult`. The parent then only discovers and orchestrates, and neither
file contents nor documents cross a process boundary.
"""

from __future__ import annotations

import atexit
import functools
import gc
import multiprocessing
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from .errors import IngestError
from .models import BatchResult, Failure, ItemResult, Outcome, SourceItem, Stage
from .processors.base import ChunkPolicy
from .sources.base import Source
from .store.base import Store
from .validators import ValidationPolicy

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_workers = 0


def cpu_pool(workers: int) -> Executor | None:
    """A pool of `workers` processes (None for 1: work stays in this process).

    A pool whose worker died is replaced, so one crash costs one batch.
    """
    global _pool, _workers
    if workers <= 1:
        return None
    with _lock:
        broken = _pool is not None and getattr(_pool, "_broken", False)
        if _pool is None or broken or _workers != workers:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            _pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm_up,
            )
            _workers = workers
        return _pool


def start_workers(workers: int) -> None:
    """Spawn the pool's processes now (when `workers` > 1), so that they import their
    parsers while discovery runs instead of when the first batch arrives."""
    pool = cpu_pool(workers)
    if pool is not None:
        for _ in range(workers):
            pool.submit(int)


def shutdown() -> None:
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None


def _warm_up() -> None:
    # Import the parsers and the store once, not per item; then keep the collector
    # off these long-lived objects.
    from . import pipeline, store  # noqa: F401

    gc.freeze()


@dataclass(frozen=True)
class BatchJob:
    """One batch for a worker process: all of it pickles, and the worker opens the
    store from its URL (a password comes from the environment, never from here)."""

    items: list[SourceItem]
    source: Source
    store_url: str
    job_id: str
    run_id: str
    validation: ValidationPolicy = field(default_factory=ValidationPolicy)
    chunking: ChunkPolicy = field(default_factory=ChunkPolicy)
    full: bool = False


def run_batch_in_pool(pool: Executor, job: BatchJob) -> BatchResult:
    """`run_batch` for the job in a worker of `pool`: the same outcomes and writes as
    in this process. A worker that dies fails every item of its batch, retryably (the
    items its write committed, if any, are recognised by the retry without a read)."""
    try:
        return pool.submit(_run_job, job).result()
    except BrokenProcessPool as exc:
        crash = f"the worker process died: {exc}"
        result = BatchResult()
        for item in job.items:
            failure = Failure(
                uri=item.uri,
                stage=Stage.PROCESS.value,
                error_type=IngestError.__name__,
                message=crash,
                retryable=True,
            )
            result.record(ItemResult(uri=item.uri, outcome=Outcome.FAILED, failure=failure))
        return result


def _run_job(job: BatchJob) -> BatchResult:
    from .pipeline import BatchContext, run_batch

    ctx = BatchContext(
        source=job.source,
        store=_worker_store(job.store_url),
        job_id=job.job_id,
        run_id=job.run_id,
        validation=job.validation,
        chunking=job.chunking,
        full=job.full,
    )
    return run_batch(job.items, ctx)


@functools.lru_cache(maxsize=4)
def _worker_store(url: str) -> Store:
    # One engine per worker and store, kept for the worker's life.
    from .store import open_store

    return open_store(url)


atexit.register(shutdown)
