"""The folder flow's batches on other task runners: a process pool and a Dask cluster
produce the store of the default thread runner, and a Dask worker killed mid-run does
not lose a batch."""

from __future__ import annotations

import importlib.util
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.flows.test_flow_filesystem import run_flow, write_files
from tests.support.kill import store_snapshot, stored_items

needs_dask = pytest.mark.skipif(
    importlib.util.find_spec("prefect_dask") is None,
    reason="prefect-dask is not installed (pip install 'aichemist-ingest[dask]')",
)
FILES = 40
BATCH = 5
SLOW_VALIDATOR = f"{__name__}:slow_validator"


def slow_validator(content: Any) -> list[str]:
    """A custom validation rule that takes its time, so a kill lands mid-batch."""
    time.sleep(0.1)
    return []


@pytest.fixture
def api_for_child_processes(prefect_api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes find the API as on a real deployment: through the environment
    (the harness sets it for this process only)."""
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    write_files(folder, FILES)
    return folder


@pytest.fixture
def reference(
    corpus: Path, tmp_path: Path, isolated_results: Path, api_for_child_processes: None
) -> dict[str, Any]:
    """The store after a run on the default runner (threads)."""
    state, report = run_flow(corpus, tmp_path / "threads.db", batch_size=BATCH)
    assert state.is_completed(), report
    assert report["counts"]["new"] == FILES
    return store_snapshot(tmp_path / "threads.db")


@pytest.fixture
def dask_cluster(api_for_child_processes: None) -> Iterator[Any]:
    """A local cluster of two single-threaded worker processes (restarted by their
    nannies when they die)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster


@pytest.mark.prefect
@pytest.mark.slow
@pytest.mark.parametrize("task_runner", ["process", pytest.param("dask", marks=needs_dask)])
def test_a_process_pool_or_a_local_dask_cluster_stores_what_threads_store(
    task_runner: str, corpus: Path, tmp_path: Path, reference: dict[str, Any]
) -> None:
    store = tmp_path / f"{task_runner}.db"
    state, report = run_flow(corpus, store, batch_size=BATCH, task_runner=task_runner)
    assert state.is_completed(), report
    assert report["counts"]["new"] == FILES
    assert store_snapshot(store) == reference


@pytest.mark.prefect
@pytest.mark.slow
@needs_dask
def test_a_killed_dask_worker_loses_no_batch(
    corpus: Path, tmp_path: Path, reference: dict[str, Any], dask_cluster: Any
) -> None:
    from distributed import Client

    store = tmp_path / "dask-kill.db"
    address = dask_cluster.scheduler_address
    killed: list[int] = []

    def kill_a_busy_worker() -> None:
        with Client(address) as client:
            pids: dict[str, int] = client.run(os.getpid)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if stored_items(store) >= BATCH:  # one batch is in, others are running
                    busy = [worker for worker, keys in client.processing().items() if keys]
                    if busy:
                        os.kill(pids[busy[0]], signal.SIGKILL)
                        killed.append(pids[busy[0]])
                        return
                time.sleep(0.02)

    killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
    killer.start()
    options = {
        "batch_size": BATCH,
        "task_runner": "dask",
        "dask_address": address,
        "validation": {"custom": [SLOW_VALIDATOR]},
    }
    state, report = run_flow(corpus, store, **options)
    killer.join(timeout=30)
    assert killed, "no worker was busy after the first batch: the kill never happened"
    if not state.is_completed():
        # Dask gave up on the batch: a retry of the run (same job) finishes it from the
        # results of the batches that completed.
        assert report["counts"]["failed"] > 0, report
        state, report = run_flow(corpus, store, **options)
    assert state.is_completed(), report
    assert report["counts"]["failed"] == 0
    assert store_snapshot(store) == reference


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"dask_address": "tcp://127.0.0.1:8786"}, "needs the dask task runner"),
        ({"task_runner": "dask", "dask_address": "127.0.0.1:8786"}, "expected a scheduler"),
    ],
)
def test_runner_choices_that_cannot_work_are_configuration_errors(
    options: dict[str, Any], message: str
) -> None:
    from flows.params import RunOptions
    from flows.runners import batch_runner
    from ingest.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=message):
        batch_runner(RunOptions(**options))


def test_each_choice_makes_its_runner() -> None:
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

    from flows.params import RunOptions
    from flows.runners import batch_runner

    assert isinstance(batch_runner(RunOptions()), ThreadPoolTaskRunner)
    assert isinstance(batch_runner(RunOptions(task_runner="process")), ProcessPoolTaskRunner)
    with pytest.raises(ValueError, match="thread"):
        RunOptions(task_runner="fibers")  # type: ignore[arg-type]


@needs_dask
def test_dask_runs_on_the_given_cluster_or_a_local_one() -> None:
    from prefect_dask.task_runners import DaskTaskRunner

    from flows.params import RunOptions
    from flows.runners import batch_runner

    remote = batch_runner(RunOptions(task_runner="dask", dask_address="tcp://10.0.0.5:8786"))
    assert isinstance(remote, DaskTaskRunner)
    assert remote.address == "tcp://10.0.0.5:8786"
    local = batch_runner(RunOptions(task_runner="dask", concurrency=3))
    assert isinstance(local, DaskTaskRunner)
    assert local.address is None
    assert local.cluster_kwargs["n_workers"] == 3
