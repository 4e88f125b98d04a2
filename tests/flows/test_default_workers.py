"""With the default `workers` (automatic), a run over a few hundred items runs its
batches in the worker pool, and a small run stays in the flow's process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ingest import parallel


def _folder(root: Path, count: int) -> Path:
    for index in range(count):
        sub = root / f"d{index // 50}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"n{index:04}.md").write_text(f"# Note {index}\n\nBody {index}.\n")
    return root


def _run(folder: Path, store: Path) -> dict[str, Any]:
    from flows.filesystem import ingest_filesystem
    from flows.params import FolderSource, RunOptions
    from ingest.validators import ValidationPolicy

    # Only the validation differs from the defaults: a rule that records its process.
    policy = ValidationPolicy(custom=["tests.support.pid_rules:record_pid"])
    state = ingest_filesystem(
        source=FolderSource(path=str(folder)),
        options=RunOptions(store=str(store), validation=policy),
        return_state=True,
    )
    report = state.result(raise_on_failure=False)
    assert state.is_completed(), report
    assert isinstance(report, dict)
    return report


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Two usable cores whatever the machine, no pool yet, and a file for the pids."""
    monkeypatch.setattr(parallel, "usable_cores", lambda: 2)
    monkeypatch.setenv("INGEST_TEST_PID_FILE", str(tmp_path / "pids"))
    parallel.shutdown()
    yield tmp_path / "pids"
    parallel.shutdown()


def _pids(path: Path) -> list[int]:
    pids = [int(line) for line in path.read_text().split()]
    path.unlink()
    return pids


@pytest.mark.prefect
def test_a_run_over_a_few_hundred_items_uses_the_pool_and_a_small_one_does_not(
    prefect_api: str, isolated_results: Path, tmp_path: Path, two_cores: Path
) -> None:
    small = _run(_folder(tmp_path / "small", 40), tmp_path / "small.db")
    assert small["counts"]["new"] == 40
    assert set(_pids(two_cores)) == {os.getpid()}, "a small run stays in the flow's process"
    assert parallel.pool_size() == 0

    count = parallel.POOL_MIN_ITEMS + 50
    large = _run(_folder(tmp_path / "large", count), tmp_path / "large.db")
    assert large["counts"]["new"] == count
    pids = _pids(two_cores)
    assert len(pids) == count
    assert os.getpid() not in pids, "every batch of a large run runs in a worker process"
    assert parallel.pool_size() == 2
