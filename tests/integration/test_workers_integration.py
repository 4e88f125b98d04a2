"""Two process workers on one work pool drain a queue of flow runs of the folder
deployment, each run executed exactly once: a real `prefect server`, `prefect deploy`,
two `prefect worker start` processes and one shared store."""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from tests.integration.harness import Stack, start_named_worker
from tests.support.paths import REPO_ROOT

pytestmark = pytest.mark.integration

# Six runs, one at a time per worker, are enough for both workers to race for the same
# scheduled runs and each to execute some; more runs only repeat the same race (each run
# costs a process start and a Prefect import in the worker).
RUNS = 6
FILES = 2
WORKERS = ("worker-a", "worker-b")
TIMEOUT_S = 600.0


def _deploy_folder(stack: Stack) -> UUID:
    made = stack.run(sys.executable, "-m", "deployments.pool", cwd=REPO_ROOT)
    assert made.returncode == 0, made.stderr
    deployed = stack.prefect("--no-prompt", "deploy", "--name", "folder", cwd=REPO_ROOT)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    with stack.client() as client:
        deployment_id: UUID = client.read_deployment_by_name("ingest-filesystem/folder").id
    return deployment_id


def _folders(root: Path) -> list[Path]:
    folders = []
    for run in range(RUNS):
        folder = root / f"folder-{run:02}"
        folder.mkdir(parents=True)
        for index in range(FILES):
            (folder / f"note-{index}.md").write_text(f"# Run {run} note {index}\n\nBody.\n")
        folders.append(folder)
    return folders


def _online_workers(stack: Stack) -> set[str]:
    with stack.client() as client:
        workers = client.read_workers_for_work_pool("ingest")
    return {w.name for w in workers if w.status and w.status.value == "ONLINE"}


def _wait(what: str, probe: Any, stack: Stack) -> Any:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(1)
    logs = "\n".join(f"--- {name} ---\n{stack.log_tail(name)}" for name in WORKERS)
    pytest.fail(f"timed out waiting for {what}\n{logs}")


def test_two_workers_drain_a_queue_of_runs_each_once(stack: Stack, tmp_path: Path) -> None:
    from flows.params import FolderSource, RunOptions
    from ingest.store import open_store

    deployment_id = _deploy_folder(stack)
    store = tmp_path / "shared.db"
    options = RunOptions(store=str(store)).model_dump(mode="json")

    with stack.client() as client:
        from prefect.client.schemas.actions import WorkPoolUpdate

        # Queue everything first, then let both workers loose on it at once.
        client.update_work_pool("ingest", WorkPoolUpdate(is_paused=True))
        run_ids = [
            str(
                client.create_flow_run_from_deployment(
                    deployment_id,
                    parameters={
                        "source": FolderSource(path=str(folder)).model_dump(mode="json"),
                        "options": options,
                    },
                ).id
            )
            for folder in _folders(tmp_path / "folders")
        ]
    for name in WORKERS:
        start_named_worker(stack, name, limit=1)
    _wait("both workers online", lambda: _online_workers(stack) >= set(WORKERS), stack)
    with stack.client() as client:
        client.update_work_pool("ingest", WorkPoolUpdate(is_paused=False))

    def all_final() -> list[Any] | None:
        with stack.client() as client:
            runs = [client.read_flow_run(UUID(run_id)) for run_id in run_ids]
        return runs if all(r.state and r.state.is_final() for r in runs) else None

    runs = _wait(f"{RUNS} runs to finish", all_final, stack)

    # Prefect: every run Completed, entered Running once.
    with stack.client() as client:
        for run in runs:
            assert run.state.is_completed(), (run.id, run.state.name, run.state.message)
            assert run.run_count == 1, (run.id, run.run_count)
            history = client.read_flow_run_states(run.id)
            running = [s for s in history if s.type.value == "RUNNING"]
            assert len(running) == 1, (run.id, [s.name for s in history])

    # The workers: both may pick up the same scheduled run, but the server lets only
    # one of them move it to Pending; the other logs "Aborted submission" and drops it.
    # What a worker executed = what it submitted minus what it aborted.
    executed: Counter[str] = Counter()
    taken: dict[str, Counter[str]] = {}
    for name in WORKERS:
        text = (stack.logs / f"{name}.log").read_text(errors="replace")
        mine = Counter(re.findall(r"submitting flow run '([0-9a-f-]{36})'", text))
        mine.subtract(re.findall(r"Aborted submission of flow run '([0-9a-f-]{36})'", text))
        taken[name] = +mine
        executed.update(taken[name])
    assert set(executed) == set(run_ids)
    assert all(count == 1 for count in executed.values()), executed.most_common(3)
    assert all(taken.values()), {name: len(ids) for name, ids in taken.items()}

    # The store: one record per run, and a second execution would have found its files
    # unchanged, so `new` proves the one execution wrote them.
    with open_store(str(store)) as opened:
        for run_id in run_ids:
            stored = opened.get_run(run_id)
            assert stored is not None, run_id
            assert stored.report.state == "Completed"
            assert stored.report.counts.new == FILES, (run_id, stored.report.counts)
        documents = list(opened.iter_export())
    assert len(documents) == RUNS * FILES
    assert Counter(d.run_id for d in documents) == {run_id: FILES for run_id in run_ids}
