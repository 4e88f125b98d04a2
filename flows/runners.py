"""The task runner a folder run's batches go through: threads of the flow's process (the
default), a process pool, or a Dask cluster, chosen by the run's options.

A flow's decorator fixes its own task runner before the flow body starts, so a
parameter cannot change it, and `flow.with_options(task_runner=...)` would only work
for callers that hold the flow object (not for a deployment run by a worker). The flow
therefore keeps its decorator's runner for itself and submits its batches to a runner
made here and entered inside the flow run: the choice is an ordinary parameter, the
same from the CLI, the UI's form, `ingest submit` and schedules. Task runs submitted
this way belong to the flow run like any other.
"""

from __future__ import annotations

from typing import Any

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from ingest.errors import ConfigurationError
from ingest.parallel import start_workers, workers_for
from ingest.pipeline import BatchConfig

from .params import RunOptions

DASK_EXTRA_HINT = "install the dask extra: pip install 'aichemist-ingest[dask]'"


def check_runner(options: RunOptions) -> None:
    """Raise ConfigurationError for a runner choice that cannot work (before any work)."""
    if options.dask_address and options.task_runner != "dask":
        raise ConfigurationError("a Dask address needs the dask task runner (--task-runner dask)")
    if options.dask_address and not options.dask_address.startswith(
        ("tcp://", "tls://", "ucx://", "inproc://", "ws://", "wss://")
    ):
        raise ConfigurationError(
            f"Dask address {options.dask_address!r}: expected a scheduler address such as "
            "tcp://host:8786"
        )
    if options.task_runner == "dask":
        try:
            import prefect_dask  # noqa: F401
        except ImportError as exc:
            raise ConfigurationError(
                f"the dask task runner needs prefect-dask: {DASK_EXTRA_HINT}"
            ) from exc


def batch_runner(options: RunOptions) -> TaskRunner[Any]:
    """A new, not yet started task runner for the run's batches (enter it to start it).

    `concurrency` bounds the batches in flight, so it also sizes the thread and process
    pools and the local Dask cluster (one single-threaded worker process per batch).
    """
    check_runner(options)
    if options.task_runner == "process":
        return ProcessPoolTaskRunner(max_workers=options.concurrency)
    if options.task_runner == "dask":
        from prefect_dask.task_runners import DaskTaskRunner

        if options.dask_address:
            return DaskTaskRunner(address=options.dask_address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": options.concurrency,
                "threads_per_worker": 1,
                "processes": True,
            }
        )
    return ThreadPoolTaskRunner(max_workers=options.concurrency)


def describe_runner(options: RunOptions) -> str:
    if options.task_runner == "dask":
        return f"Dask cluster {options.dask_address or '(local)'}"
    if options.task_runner == "process":
        return f"a pool of {options.concurrency} processes"
    return f"{options.concurrency} threads"


def local_workers(options: RunOptions) -> int:
    """The worker processes a batch may use beside its task (0: automatic). Batches on
    a process pool or a Dask cluster already run in processes: automatic is one there."""
    if options.task_runner == "thread":
        return options.workers
    return options.workers or 1


def sized_for(config: BatchConfig, requested: int, queued: int, logger: Any) -> BatchConfig:
    """`config` with the worker count for a run that has handed `queued` items to its
    batches so far (see `ingest.parallel.workers_for`), the pool started when first
    needed."""
    workers = workers_for(requested, queued)
    if workers == config.workers:
        return config
    start_workers(workers)
    logger.info("%d items to process: batches run whole in %d worker processes", queued, workers)
    return config.model_copy(update={"workers": workers})
