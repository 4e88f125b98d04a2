"""Progress and run summaries in a real Prefect test harness, read back through the API."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from uuid import UUID

import pytest

from ingest.models import Counts, Failure, PhaseTiming, Rejection, RunReport
from ingest.progress import (
    ProgressReporter,
    ProgressSnapshot,
    attached_listeners,
    end_discovery,
    record_batch,
    record_discovered,
)

pytestmark = pytest.mark.prefect

SECRET_URI = "https://reader:hunter2@docs.example.test/page?access_token=abc123&lang=en"


def _report(run_id: str, items: int, failed: int, rejected: int) -> RunReport:
    failures = [
        Failure(
            uri=f"file:///corpus/broken{i}.md" if i else SECRET_URI,
            stage="fetch",
            error_type="SourceAccessError",
            message=f"connection reset ({i})",
            retryable=True,
        )
        for i in range(failed)
    ]
    rejections = [
        Rejection(uri=f"file:///corpus/bad{i}.json", errors=[f"json-syntax at 1:{i}: bad"])
        for i in range(rejected)
    ]
    new = items - failed - rejected
    return RunReport(
        run_id=run_id,
        flow="progress-test",
        state="Failed" if failed else "Completed",
        counts=Counts(discovered=items, new=new, rejected=rejected, failed=failed),
        failures=failures,
        rejected=rejections,
        duration_s=1.5,
        phases={"fetch": PhaseTiming(items=items, seconds=0.5)},
    )


def _progress_flow() -> Any:
    from prefect import flow
    from prefect.runtime import flow_run

    from flows.adapters.artifacts import PrefectProgressListener, publish_run_summary

    @flow(name="progress-test", persist_result=False)
    def progress_test(items: int, failed: int, rejected: int) -> dict[str, Any]:
        listener = PrefectProgressListener("progress-test-progress", min_interval_s=0.0)
        with ProgressReporter([listener, *attached_listeners()], max_rate_hz=50) as reporter:
            for _ in range(items // 10):
                record_discovered(reporter, found=10, pending=10)
                time.sleep(0.02)
            reporter.flush()
            while_discovering = (listener.progress, listener.description)
            end_discovery(reporter)
            counts = Counts(new=items - failed - rejected, rejected=rejected, failed=failed)
            record_batch(reporter, items, counts)
        report = _report(str(flow_run.id), items, failed, rejected)
        artifacts = publish_run_summary(report, max_item_events=3)
        return {
            "while_discovering": while_discovering,
            "progress": listener.progress,
            "summary": str(artifacts.summary),
            "failures": str(artifacts.failures),
            "rejections": str(artifacts.rejections),
            "events": artifacts.events,
        }

    return progress_test


async def _artifacts(flow_run_id: UUID) -> dict[str, Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        artifacts = await client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return {str(artifact.key): artifact for artifact in artifacts}


async def _events(resource_ids: list[str], expected: int, wait_s: float = 15.0) -> list[Any]:
    from prefect import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    events: list[Any] = []
    deadline = time.monotonic() + wait_s
    async with get_client() as client:
        while time.monotonic() < deadline:
            page = await client.read_events(
                filter=EventFilter(
                    event=EventNameFilter(prefix=["ingest."]),
                    resource=EventResourceFilter(id=resource_ids),
                ),
                limit=50,
            )
            events = page.events
            if len(events) >= expected:
                break
            await asyncio.sleep(0.25)
    return events


class Runs:
    """The two flow runs of this module, run once: one with problems, one clean."""

    def __init__(self) -> None:
        from ingest.progress import progress_listeners

        self.seen: list[ProgressSnapshot] = []
        with progress_listeners(self.seen.append):
            self.troubled = _progress_flow()(items=50, failed=5, rejected=2, return_state=True)
        self.clean = _progress_flow()(items=20, failed=0, rejected=0, return_state=True)


@pytest.fixture(scope="module")
def runs(prefect_api: str) -> Runs:
    return Runs()


def test_flow_leaves_progress_at_100_and_summary_artifacts(runs: Runs) -> None:
    state = runs.troubled
    assert state.is_completed(), state
    result = state.result()
    percent, description = result["while_discovering"]
    assert percent == 0.0, "no share while discovery runs"
    assert description.startswith("discovering: discover 50")
    assert result["progress"] == 100.0
    assert result["events"] == 5
    assert runs.seen, "attached listeners reach the flow's reporter"
    assert runs.seen[-1].finished
    assert runs.seen[-1].phase("store").done == 50

    flow_run_id = state.state_details.flow_run_id
    artifacts = asyncio.run(_artifacts(flow_run_id))
    progress = artifacts["progress-test-progress"]
    assert progress.type == "progress"
    assert float(progress.data) == 100.0

    summary = artifacts["progress-test-summary"]
    assert str(summary.id) == result["summary"]
    markdown = summary.data
    assert "| new | 43 |" in markdown
    assert "| failed | 5 |" in markdown
    assert "| rejected | 2 |" in markdown
    assert "## Failures (5)" in markdown
    assert "connection reset (1)" in markdown
    assert f"ingest retry {flow_run_id}" in markdown
    assert "hunter2" not in markdown
    assert "abc123" not in markdown

    failures = json.loads(artifacts["progress-test-failures"].data)
    assert len(failures) == 5
    assert {row["stage"] for row in failures} == {"fetch"}
    assert all(row["retryable"] for row in failures)
    assert "hunter2" not in json.dumps(failures)
    assert "abc123" not in json.dumps(failures)
    rejections = json.loads(artifacts["progress-test-rejections"].data)
    assert len(rejections) == 2
    assert rejections[0]["errors"].startswith("json-syntax")


def test_clean_run_has_no_problem_tables(runs: Runs) -> None:
    state = runs.clean
    assert state.is_completed(), state
    result = state.result()
    assert result["progress"] == 100.0
    assert result["failures"] == "None"
    assert result["rejections"] == "None"
    artifacts = asyncio.run(_artifacts(state.state_details.flow_run_id))
    assert set(artifacts) == {"progress-test-progress", "progress-test-summary"}
    assert "| new | 20 |" in artifacts["progress-test-summary"].data
    assert "## Retry" not in artifacts["progress-test-summary"].data


def test_run_events_are_bounded_and_carry_counts(runs: Runs) -> None:
    troubled = f"ingest.run.{runs.troubled.state_details.flow_run_id}"
    clean = f"ingest.run.{runs.clean.state_details.flow_run_id}"
    # the server persists events in batches every few seconds: wait for both runs at once
    events = asyncio.run(_events([troubled, clean], expected=6))
    by_run: dict[str, list[Any]] = {troubled: [], clean: []}
    for event in events:
        by_run[event.resource.id].append(event)
    names = sorted(event.event for event in by_run[troubled])
    assert names.count("ingest.item.failed") == 3  # bounded by max_item_events
    assert names.count("ingest.item.failed.summary") == 1
    assert names.count("ingest.run.failed") == 1
    run_event = next(e for e in by_run[troubled] if e.event == "ingest.run.failed")
    assert run_event.payload["counts"]["failed"] == 5
    summary = next(e for e in by_run[troubled] if e.event == "ingest.item.failed.summary")
    assert summary.payload == {"failed": 5, "emitted": 3, "omitted": 2}
    assert "hunter2" not in json.dumps([event.payload for event in events])
    assert [event.event for event in by_run[clean]] == ["ingest.run.completed"]


def test_progress_listener_outside_a_flow_run_does_nothing(prefect_api: str) -> None:
    from flows.adapters.artifacts import PrefectProgressListener

    listener = PrefectProgressListener()
    assert listener.artifact_id is None
    with ProgressReporter([listener]) as reporter:
        reporter.advance("fetch")
    assert listener.progress is None
