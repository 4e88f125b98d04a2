"""The real `ingest-filesystem` flow leaves its progress at 100% and summary artifacts
with the run's counts (read back through the Prefect client)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from tests.test_flow_filesystem import run_flow
from tests.test_progress_prefect import _artifacts

pytestmark = pytest.mark.prefect


def test_the_filesystem_flow_publishes_progress_and_summary(
    prefect_api: str, isolated_results: Path, tmp_path: Path
) -> None:
    from ingest.progress import progress_listeners

    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLES, corpus)
    seen: list[object] = []
    with progress_listeners(seen.append):
        state, report = run_flow(corpus, tmp_path / "store.db", batch_size=10)
    assert state.is_completed(), report
    assert seen, "a listener attached by the caller reaches the flow's reporter"

    artifacts = asyncio.run(_artifacts(state.state_details.flow_run_id))
    progress = artifacts["ingest-filesystem-progress"]
    assert float(progress.data) == 100.0
    summary = artifacts["ingest-filesystem-summary"].data
    counts = report["counts"]
    assert f"| new | {counts['new']} |" in summary
    assert f"| rejected | {counts['rejected']} |" in summary
    rejections = json.loads(artifacts["ingest-filesystem-rejections"].data)
    assert len(rejections) == counts["rejected"]
    assert "ingest-filesystem-failures" not in artifacts
