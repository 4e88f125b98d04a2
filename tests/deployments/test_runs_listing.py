"""`ingest runs`: by default the runs that have started or ended, newest first (a
cancelled future run counts from its cancellation, not from its planned start), never
the schedule's future runs; `--upcoming`, `--flow`, `--deployment` and `--since`
narrow it. Runs are made on the real test harness."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from deployments.run_query import RunQuery, parse_since
from ingest.errors import ConfigurationError
from tests.support.paths import REPO_ROOT


async def _make_runs(deployment: str) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled, Completed, Failed, Running, Scheduled

    made: dict[str, Any] = {}
    async with get_client() as client:
        ids = {}
        for flow in ("ingest-filesystem", "ingest-web"):
            flow_id = await client.create_flow_from_name(flow)
            ids[flow] = (flow_id, await client.create_deployment(flow_id=flow_id, name=deployment))

        async def run(flow: str, *states: Any) -> str:
            flow_id, deployment_id = ids[flow]
            created = await client.create_flow_run_from_deployment(deployment_id)
            for state in states:
                await client.set_flow_run_state(created.id, state, force=True)
            return str(created.id)

        # cancelled first, while due in two hours: it ended (Prefect gives it a start
        # time then), before every other run
        in_two_hours = datetime.now(UTC) + timedelta(hours=2)
        made["cancelled_future"] = await run(
            "ingest-filesystem", Scheduled(scheduled_time=in_two_hours), Cancelled()
        )
        await asyncio.sleep(1.1)
        made["completed"] = await run("ingest-filesystem", Running(), Completed())
        await asyncio.sleep(1.1)
        made["between"] = datetime.now(UTC)
        await asyncio.sleep(1.1)
        made["failed"] = await run("ingest-filesystem", Running(), Failed())
        await asyncio.sleep(1.1)
        made["running"] = await run("ingest-web", Running())
        later = datetime.now(UTC) + timedelta(hours=1)
        made["scheduled"] = await run("ingest-web", Scheduled(scheduled_time=later))
    return made


def _ids(query: RunQuery) -> list[str]:
    from deployments.runs import list_runs

    return [row.id for row in asyncio.run(list_runs(query))]


@pytest.fixture(scope="module")
def made(prefect_api: str) -> dict[str, Any]:
    deployment = f"probe-{uuid.uuid4().hex[:8]}"
    runs = asyncio.run(_make_runs(deployment))
    runs["deployment"] = deployment
    return runs


@pytest.mark.prefect
def test_default_lists_started_runs_newest_first(
    made: dict[str, Any], prefect_api: str, tmp_path: Path
) -> None:
    env = dict(
        os.environ,
        PREFECT_API_URL=prefect_api,
        INGEST_HOME=str(tmp_path / "home"),
        PYTHONPATH=str(REPO_ROOT),
    )
    run = subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", "runs", "--json",
         "--deployment", made["deployment"]],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    listed = [row["id"] for row in json.loads(run.stdout)]
    expected = ["running", "failed", "completed", "cancelled_future"]
    assert listed == [made[key] for key in expected]


@pytest.mark.prefect
def test_upcoming_lists_only_scheduled_runs(made: dict[str, Any]) -> None:
    assert _ids(RunQuery(upcoming=True, deployment=made["deployment"])) == [made["scheduled"]]


@pytest.mark.prefect
def test_state_filter_finds_the_cancelled_future_run(made: dict[str, Any]) -> None:
    cancelled = _ids(RunQuery(state="cancelled", deployment=made["deployment"]))
    assert cancelled == [made["cancelled_future"]]


@pytest.mark.prefect
@pytest.mark.parametrize(
    ("flow", "deployment", "expected"),
    [
        ("web", None, ["running"]),
        ("ingest-filesystem", None, ["failed", "completed", "cancelled_future"]),
        (None, "ingest-web/{d}", ["running"]),
        ("fs", "ingest-web/{d}", []),
    ],
)
def test_flow_and_deployment_filters(
    made: dict[str, Any], flow: str | None, deployment: str | None, expected: list[str]
) -> None:
    name = deployment.format(d=made["deployment"]) if deployment else made["deployment"]
    assert _ids(RunQuery(flow=flow, deployment=name)) == [made[key] for key in expected]


@pytest.mark.prefect
def test_since_keeps_runs_started_after_it(made: dict[str, Any]) -> None:
    query = RunQuery(since=made["between"], deployment=made["deployment"])
    assert _ids(query) == [made["running"], made["failed"]]


def test_since_reads_durations_and_dates() -> None:
    now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert parse_since("2h", now) == now - timedelta(hours=2)
    assert parse_since("1w", now) == now - timedelta(days=7)
    assert parse_since("2026-01-09T08:00+00:00", now) == datetime(2026, 1, 9, 8, tzinfo=UTC)
    assert parse_since("2026-01-09").tzinfo is not None
    with pytest.raises(ConfigurationError, match="invalid --since"):
        parse_since("yesterday-ish", now)


def test_upcoming_with_state_or_since_is_a_usage_error() -> None:
    with pytest.raises(ConfigurationError, match="--upcoming"):
        RunQuery(upcoming=True, state="failed")
    with pytest.raises(ConfigurationError, match="--since"):
        RunQuery(upcoming=True, since=datetime.now(UTC))
