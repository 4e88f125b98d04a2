"""Where a batch runs: in this process, or whole in a worker of the process pool shared
by all batches of a process; and how many workers a run gets by default.

Threads gain nothing on CPU work under the GIL (and `ast.parse` from several
threads crashes CPython 3.11), so content work goes to processes. Workers are
spawned, not forked: the parent runs Prefect's threads, which a fork would copy
in an unknown state.

A batch in the pool runs whole in a worker (`run_configured_batch`): the worker reads,
hashes, processes and writes the batch to the store itself, and hands back only the
small `BatchResult`. The parent then only discovers and orchestrates.

A pool takes seconds to start (spawn, imports), so a small run stays in-process: by
default a run gets the usable cores (at most `MAX_DEFAULT_WORKERS`) once it has more
than `POOL_MIN_ITEMS` items, else one process.
"""

from __future__ import annotations

import atexit
import functools
import gc
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from .errors import ConfigurationError, IngestError
from .models import BatchResult, Failure, ItemResult, Outcome, SourceItem, Stage
from .pipeline import BatchConfig, BatchContext, run_batch
from .sources.base import Source
from .store.base import Store

# Runs up to this many items stay in one process: the pool's start-up (a few seconds
# of spawning and imports) would cost more than it saves.
POOL_MIN_ITEMS = 300
MAX_DEFAULT_WORKERS = 8

_lock = threading.Lock()
# Batches that run in this process run one at a time, whole (see `run_configured_batch`).
_in_process = threading.Lock()
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
                initargs=(os.getpid(),),
            )
            _workers = workers
        return _pool


@contextmanager
def discovery_turn(workers: int) -> Iterator[None]:
    """A turn for discovery beside the batches of a run whose batches all run in this
    process (`workers` 1): discovery then waits for no batch to be running, like
    the batches wait for each other (see `run_configured_batch`). Both are Python
    work under one GIL, so overlapping them gains nothing, and every stat of one and
    file read of the other hands the GIL over and waits to get it back: on a 3,100-file
    snapshot the batches beside discovery took twice as long to read their files."""
    if workers > 1:
        yield
        return
    with _in_process:
        yield


def start_workers(workers: int) -> None:
    """Spawn the pool's processes now (when `workers` > 1), so that they import their
    parsers while discovery runs instead of when the first batch arrives."""
    pool = cpu_pool(workers)
    if pool is not None:
        for _ in range(workers):
            pool.submit(int)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers(items: int, cores: int | None = None) -> int:
    """The default worker count for a run of `items` items: 1 (in-process) up to
    `POOL_MIN_ITEMS`, else the usable cores, at most `MAX_DEFAULT_WORKERS`."""
    if items <= POOL_MIN_ITEMS:
        return 1
    return max(1, min(usable_cores() if cores is None else cores, MAX_DEFAULT_WORKERS))


def workers_for(requested: int, items: int) -> int:
    """`requested` workers, or with 0 (automatic) the default for `items` items so far.
    Never fewer for more items, so a run that crossed the line stays in the pool."""
    return requested if requested > 0 else default_workers(items)


def most_workers(requested: int) -> int:
    """The most workers a run with this request can get."""
    return workers_for(requested, POOL_MIN_ITEMS + 1)


def pool_size() -> int:
    """The worker processes of this process's live pool (0: none)."""
    with _lock:
        return _workers if _pool is not None else 0


def shutdown() -> None:
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None


def _exit_with_parent(parent: int, every_s: float = 0.5) -> None:
    """End this worker when the process that started it is gone. A worker holds both ends
    of the pool's queues, so a parent killed with SIGKILL would leave it waiting forever
    (holding memory, the store's engine and the parent's stdout and stderr)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _warm_up(parent: int) -> None:
    # The parent's pid comes from the parent: one killed while this worker started is
    # noticed too (this process would already see its new parent).
    _exit_with_parent(parent)
    # Import the parsers and the store once, not per item; then keep the collector
    # off these long-lived objects.
    import trafilatura  # noqa: F401  (the HTML processor imports it on first use)

    from . import pipeline, store  # noqa: F401

    gc.freeze()


def run_configured_batch(
    items: list[SourceItem], source: Source, config: BatchConfig
) -> BatchResult:
    """Run the batch where `config.workers` says: here with one worker, else whole in a
    worker of the pool (`source` must then pickle). The same outcomes and writes either
    way; the store is opened from `config.store_url`, once per process.

    Batches that run here (several in flight in a flow's threads) take turns, whole:
    their CPU work is serialised anyway (the GIL, and `run_batch`'s lock around
    parsing), so letting one batch read files and write rows while another parses
    gains nothing and costs much. Every read and SQLite step hands the GIL to the
    other thread and waits to get it back (tens of thousands of switches per run, a
    cost that grows with free cores), and both batches' objects stay alive together
    for the garbage collector to walk. On a 3,100-file snapshot with two batches in
    flight, taking turns cut the flow process's CPU by about a tenth and its
    collector's time by half. A batch's Prefect bookkeeping still overlaps the other
    batch's work: only the batch itself waits here."""
    pool = cpu_pool(config.workers)
    if pool is None:
        with _in_process:
            return run_batch(items, BatchContext(source, _store_of(config), config))
    return run_batch_in_pool(pool, items, source, config)


def run_batch_in_pool(
    pool: Executor, items: list[SourceItem], source: Source, config: BatchConfig
) -> BatchResult:
    """`run_batch` in a worker of `pool`. A worker that dies fails every item of its
    batch, retryably (the items its write committed, if any, are recognised by the
    retry without a read)."""
    try:
        return pool.submit(_run_in_worker, items, source, config).result()
    except BrokenProcessPool as exc:
        crash = f"the worker process died: {exc}"
        result = BatchResult()
        for item in items:
            failure = Failure(
                uri=item.uri,
                stage=Stage.PROCESS.value,
                error_type=IngestError.__name__,
                message=crash,
                retryable=True,
            )
            result.record(ItemResult(uri=item.uri, outcome=Outcome.FAILED, failure=failure))
        return result


def _run_in_worker(items: list[SourceItem], source: Source, config: BatchConfig) -> BatchResult:
    return run_batch(items, BatchContext(source, _store_of(config), config))


def _store_of(config: BatchConfig) -> Store:
    if config.store_url is None:
        raise ConfigurationError("the batch configuration names no store to open")
    return _open_store(config.store_url)


@functools.lru_cache(maxsize=4)
def _open_store(url: str) -> Store:
    # One engine per process and store, kept for its life: a batch must not pay for a
    # new connection pool.
    from .store import open_store

    return open_store(url)


atexit.register(shutdown)
