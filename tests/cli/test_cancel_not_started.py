"""`ingest cancel` on a run that has not started (Scheduled for later, or Pending) is a
plain state change: reported as done, exit 0, and the run ends Cancelled."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from tests.support.paths import REPO_ROOT


async def _create_run(state_type: str) -> UUID:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.states import Pending, Scheduled

    @flow(name="ingest-cancel-probe")
    def probe() -> None:  # never runs: only its run record is needed
        return None

    state = (
        Scheduled(scheduled_time=datetime.now(UTC) + timedelta(hours=1))
        if state_type == "scheduled"
        else Pending()
    )
    async with get_client() as client:
        run = await client.create_flow_run(probe, state=state)
    return run.id


async def _state_of(run_id: UUID) -> str:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        run = await client.read_flow_run(run_id)
    assert run.state is not None
    return run.state.type.value


@pytest.mark.prefect
@pytest.mark.parametrize("state_type", ["scheduled", "pending"])
def test_cancel_a_run_that_has_not_started_is_done(
    prefect_api: str, state_type: str, tmp_path: Path
) -> None:
    run_id = asyncio.run(_create_run(state_type))
    env = dict(
        os.environ,
        PREFECT_API_URL=prefect_api,
        INGEST_HOME=str(tmp_path / "home"),
        PYTHONPATH=str(REPO_ROOT),
    )
    run = subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", "cancel", str(run_id)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "refused" not in run.stderr
    assert f"run {run_id}: Cancelled" in run.stderr
    assert asyncio.run(_state_of(run_id)) == "CANCELLED"
