"""Runs killed with SIGKILL at random points, then run again: the store ends exactly as
after a clean run, and completed batches are not executed again."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli import start_ingest
from tests.support.kill import job_left_open, kill_at, store_snapshot

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

# One kill in each quarter of the run (from before the first commit to the last batch)
# covers the same kill points as more random ones, in fewer runs of the CLI.
ITERATIONS = 4
FILES = 600
BATCH = 20
CONCURRENCY = 2


def _corpus(root: Path) -> None:
    from benchmarks.corpus import generate_corpus

    generate_corpus(root, FILES, seed=7)


def _start(corpus: Path, store: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return start_ingest(
        "fs",
        str(corpus),
        "--store",
        str(store),
        "--batch-size",
        str(BATCH),
        "--batch-concurrency",
        str(CONCURRENCY),
        "--json",
        env=env,
    )


async def _task_states(api: str, flow_run_id: str) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        runs = await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return [run.state.name for run in runs if run.state is not None]


async def _latest_flow_run_ids(after: float) -> list[str]:
    from datetime import UTC, datetime

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
    )

    since = datetime.fromtimestamp(after, UTC)
    async with get_client() as client:
        runs = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                expected_start_time=FlowRunFilterExpectedStartTime(after_=since)
            )
        )
    return [str(run.id) for run in runs]


def test_killed_runs_resume_to_the_clean_result(prefect_api: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    _corpus(corpus)
    env = dict(
        os.environ,
        PREFECT_API_URL=prefect_api,
        INGEST_HOME=str(tmp_path / "home"),
        INGEST_RESULTS_DIR=str(tmp_path / "results"),
    )
    clean_store = tmp_path / "clean.db"
    clean = _start(corpus, clean_store, env)
    out, err = clean.communicate(timeout=300)
    assert clean.returncode == 0, err
    clean_report = json.loads(out)
    expected = store_snapshot(clean_store)
    total_batches = -(-(clean_report["counts"]["discovered"]) // BATCH)
    assert clean_report["counts"]["failed"] == 0
    print(f"clean run: {clean_report['duration_s']} s in the flow")

    rng = random.Random(20261129)
    span = FILES // ITERATIONS
    killed_mid_run = 0
    for iteration in range(ITERATIONS):
        store = tmp_path / f"killed-{iteration}.db"
        results = tmp_path / f"results-{iteration}"
        run_env = dict(env, INGEST_RESULTS_DIR=str(results))
        started = time.time()
        victim = _start(corpus, store, run_env)
        kill_at(victim, store, rng.randrange(iteration * span, (iteration + 1) * span))
        victim.communicate(timeout=60)
        killed_mid_run += store.exists() and job_left_open(store)
        killed_ids = asyncio.run(_latest_flow_run_ids(started))
        # Prefect marks a task run Completed before it writes the result file, so a kill in
        # between leaves a batch Completed but not persisted: still in flight, for a retry.
        # A result file cut short by the kill is no result either.
        persisted = sum(1 for path in results.rglob("*") if _whole_result(path))

        retry = _start(corpus, store, run_env)
        out, err = retry.communicate(timeout=300)
        assert retry.returncode == 0, err
        report = json.loads(out)
        assert report["counts"]["failed"] == 0
        assert store_snapshot(store) == expected, f"iteration {iteration}: store differs"

        retry_states = asyncio.run(_task_states(prefect_api, report["run_id"]))
        executed = retry_states.count("Completed")
        done_before = 0
        for run_id in killed_ids:
            if run_id != report["run_id"]:
                done_before += asyncio.run(_task_states(prefect_api, run_id)).count("Completed")
        print(
            f"iteration {iteration}: {done_before} batches done before the kill "
            f"({persisted} persisted), {executed} executed and "
            f"{retry_states.count('Cached')} cached in the retry, of {total_batches}"
        )
        assert executed + retry_states.count("Cached") <= total_batches
        # Only batches in flight at the kill run again: every persisted one is reused, and
        # at most one batch per concurrency slot was completed without its result.
        assert executed <= total_batches - persisted, (executed, persisted, retry_states)
        assert persisted >= done_before - CONCURRENCY, (persisted, done_before)
    assert killed_mid_run >= ITERATIONS // 2, "the kills came too late to test anything"


def _whole_result(path: Path) -> bool:
    """A result record Prefect can read back (its files are JSON)."""
    if not path.is_file():
        return False
    try:
        json.loads(path.read_bytes())
    except ValueError:
        return False
    return True
