"""Run events in Prefect, for automations to match: one per failed item (capped,
then a summary) and one for the run's end. They carry uris (credentials masked),
counts, stages and reasons: never document contents, never secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from prefect.events import emit_event

from ingest.models import RunReport

from .summary import failure_row

ITEM_FAILED_EVENT = "ingest.item.failed"
ITEM_FAILED_SUMMARY_EVENT = "ingest.item.failed.summary"
RUN_COMPLETED_EVENT = "ingest.run.completed"
RUN_FAILED_EVENT = "ingest.run.failed"


def run_resource(report: RunReport) -> dict[str, str]:
    return {
        "prefect.resource.id": f"ingest.run.{report.run_id}",
        "prefect.resource.name": report.flow,
        "ingest.flow": report.flow,
    }


def emit_run_events(
    report: RunReport,
    *,
    max_item_events: int = 100,
    emit: Callable[..., Any] = emit_event,
) -> int:
    """`ingest.item.failed` per failed item (at most `max_item_events`, then one
    `ingest.item.failed.summary`), then `ingest.run.completed` or `ingest.run.failed`.
    Returns the number of events emitted."""
    resource = run_resource(report)
    related = _related_flow_run(report)
    emitted = 0
    for failure in report.failures[:max_item_events]:
        emit(
            event=ITEM_FAILED_EVENT,
            resource=resource,
            related=related,
            payload=failure_row(failure),
        )
        emitted += 1
    omitted = len(report.failures) - max_item_events
    if omitted > 0:
        emit(
            event=ITEM_FAILED_SUMMARY_EVENT,
            resource=resource,
            related=related,
            payload={
                "failed": len(report.failures),
                "emitted": max_item_events,
                "omitted": omitted,
            },
        )
        emitted += 1
    failed = report.counts.failed > 0 or report.state.lower() != "completed"
    emit(
        event=RUN_FAILED_EVENT if failed else RUN_COMPLETED_EVENT,
        resource=resource,
        related=related,
        payload={
            "run_id": report.run_id,
            "flow": report.flow,
            "state": report.state,
            "counts": report.counts.model_dump(),
            "duration_s": report.duration_s,
        },
    )
    return emitted + 1


def _related_flow_run(report: RunReport) -> list[dict[str, str]]:
    try:
        UUID(report.run_id)
    except ValueError:
        return []
    return [
        {
            "prefect.resource.id": f"prefect.flow-run.{report.run_id}",
            "prefect.resource.role": "flow-run",
        }
    ]
