"""The process pool for the CPU work of batches, shared by all batches of a process.

Threads gain nothing on CPU work under the GIL (and `ast.parse` from several
threads crashes CPython 3.11), so content work goes to processes. Workers are
spawned, not forked: the parent runs Prefect's threads, which a fork would copy
in an unknown state.
"""

from __future__ import annotations

import atexit
import gc
import multiprocessing
import threading
from concurrent.futures import Executor, ProcessPoolExecutor

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


def shutdown() -> None:
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None


def _warm_up() -> None:
    from . import pipeline  # noqa: F401  (import the parsers once, not per item)

    gc.freeze()


atexit.register(shutdown)
