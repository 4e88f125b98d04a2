"""Progress and run summaries in Prefect: a live progress artifact on the flow run,
summary and table artifacts at the end, and events that automations can match.

Artifacts and events carry uris (credentials and secret-looking query values
masked), counts, stages and reasons: never document contents, never secrets.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.context import FlowRunContext
from prefect.events import emit_event

from ingest.models import Failure, Rejection, RunReport
from ingest.progress import ProgressSnapshot, format_duration
from ingest.redact import redact_url

from .adapters._prefect_compat import call_sync

logger = logging.getLogger(__name__)

ITEM_FAILED_EVENT = "ingest.item.failed"
ITEM_FAILED_SUMMARY_EVENT = "ingest.item.failed.summary"
RUN_COMPLETED_EVENT = "ingest.run.completed"
RUN_FAILED_EVENT = "ingest.run.failed"

_MESSAGE_LIMIT = 500
#: Starts a progress description while the run's share is unknown (discovery runs).
DISCOVERING = "discovering"


def artifact_key(text: str) -> str:
    """`text` as a valid artifact key: lowercase letters, digits and dashes."""
    key = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return re.sub(r"-{2,}", "-", key) or "ingest"


def safe_uri(uri: str) -> str:
    """The uri without user info, and with secret-looking query values masked."""
    return redact_url(uri)


def _short(message: str) -> str:
    return message if len(message) <= _MESSAGE_LIMIT else message[: _MESSAGE_LIMIT - 1] + "…"


class PrefectProgressListener:
    """Keeps a progress artifact on the current flow run up to date.

    Create it inside the flow run (it creates the artifact at 0% there); the
    reporter then calls it from its delivery thread. Updates go out at most every
    `min_interval_s` and only when something changed; the final snapshot always
    sets 100%. If the API refuses, the listener logs once and stops.
    """

    def __init__(
        self,
        key: str = "ingest-progress",
        *,
        min_interval_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key = artifact_key(key)
        self.artifact_id: UUID | None = None
        self._min_interval = min_interval_s
        self._clock = clock
        self._last_at = float("-inf")
        self._last: tuple[float, str] | None = None
        if FlowRunContext.get() is None:
            logger.warning("no flow run: the progress artifact %r is not created", self.key)
            return
        try:
            self.artifact_id = cast(
                UUID,
                call_sync(
                    create_progress_artifact, progress=0.0, key=self.key, description="starting"
                ),
            )
        except Exception:
            logger.warning("could not create the progress artifact %r", self.key, exc_info=True)

    @property
    def progress(self) -> float | None:
        """The last percentage sent, if any."""
        return None if self._last is None else self._last[0]

    def __call__(self, snapshot: ProgressSnapshot) -> None:
        if self.artifact_id is None:
            return
        # No share is known while discovery runs: 0%, and a description that says so
        # (`ingest status` then shows counts without a percentage); a stopped run
        # keeps its real share, not 100%.
        percent = round(100.0 * (snapshot.fraction or 0.0), 1)
        description = snapshot.describe()
        if snapshot.fraction is None:
            description = f"{DISCOVERING}: {description}"
        now = self._clock()
        if not snapshot.finished:
            if now - self._last_at < self._min_interval or self._last == (percent, description):
                return
        call_sync(
            update_progress_artifact,
            artifact_id=self.artifact_id,
            progress=percent,
            description=description,
        )
        self._last_at = now
        self._last = (percent, description)


@dataclass(frozen=True)
class RunArtifacts:
    """Ids of the artifacts `publish_run_summary` created (None: not created)."""

    summary: UUID | None
    failures: UUID | None
    rejections: UUID | None
    events: int = 0


def retry_hints(report: RunReport) -> list[str]:
    return [
        f"`ingest retry {report.run_id}` re-runs only the batches that did not complete.",
        "In the Prefect UI, **Retry** on this flow run (runs started from a deployment).",
        "Or run the same command again: the store skips every item that is already current.",
    ]


def render_summary_markdown(
    report: RunReport,
    *,
    slowest: Sequence[tuple[str, float]] = (),
    run_url: str | None = None,
    max_listed: int = 50,
) -> str:
    """The run report as Markdown: counts, throughput, slowest items, problems, retry."""
    counts = report.counts
    lines = [f"# {report.flow}: {report.state}", ""]
    run = f"[{report.run_id}]({run_url})" if run_url else f"`{report.run_id}`"
    lines += [
        f"Run {run} took {report.duration_s:.2f} s"
        + (f" ({format_duration(report.duration_s)})." if report.duration_s >= 60 else "."),
        "",
    ]
    lines += ["## Outcomes", "", "| outcome | items |", "|---|---:|"]
    lines += [f"| {name} | {value} |" for name, value in counts.model_dump().items()]
    lines.append("")
    if report.notes:
        lines += ["## Notes", "", *(f"- {_cell(note)}" for note in report.notes), ""]
    lines += ["## Throughput", ""]
    if report.duration_s > 0:
        per_second = counts.discovered / report.duration_s
        lines += [f"{counts.discovered} items discovered, {per_second:.1f} items/s overall.", ""]
    if report.phases:
        lines += ["| phase | items | seconds | items/s |", "|---|---:|---:|---:|"]
        for phase, timing in report.phases.items():
            rate = f"{timing.items / timing.seconds:.1f}" if timing.seconds > 0 else "-"
            lines.append(f"| {phase} | {timing.items} | {timing.seconds:.2f} | {rate} |")
        lines += ["", "Phase seconds add up the time of every batch, including parallel ones.", ""]
    if slowest:
        lines += ["## Slowest items", "", "| item | seconds |", "|---|---:|"]
        lines += [f"| {_cell(safe_uri(uri))} | {seconds:.2f} |" for uri, seconds in slowest]
        lines.append("")
    if report.failures:
        lines += [f"## Failures ({len(report.failures)})", ""]
        lines += [
            f"- `{_cell(safe_uri(f.uri))}` at {f.stage} ({f.error_type}"
            f"{', retryable' if f.retryable else ''}): {_cell(_short(f.message))}"
            for f in report.failures[:max_listed]
        ]
        lines += _more(len(report.failures), max_listed)
    if report.skipped:
        # Not problems: counted by reason; the items are in the report and the store.
        lines += [f"## Skipped ({len(report.skipped)})", "", "| reason | items |", "|---|---:|"]
        lines += [f"| {_cell(code)} | {n} |" for code, n in report.skipped_by_code().items()]
        lines.append("")
    if report.rejected:
        lines += [f"## Rejected ({len(report.rejected)})", ""]
        lines += [
            f"- `{_cell(safe_uri(r.uri))}`: {_cell(_short('; '.join(r.errors)))}"
            for r in report.rejected[:max_listed]
        ]
        lines += _more(len(report.rejected), max_listed)
    if counts.failed:
        lines += ["## Retry", ""]
        lines += [f"- {hint}" for hint in retry_hints(report)]
        lines.append("")
    return "\n".join(lines)


def failure_rows(report: RunReport, limit: int = 1000) -> list[dict[str, Any]]:
    return [_failure_row(failure) for failure in report.failures[:limit]]


def rejection_rows(report: RunReport, limit: int = 1000) -> list[dict[str, Any]]:
    return [_rejection_row(rejection) for rejection in report.rejected[:limit]]


def publish_run_summary(
    report: RunReport,
    *,
    key_prefix: str | None = None,
    slowest: Sequence[tuple[str, float]] = (),
    events: bool = True,
    max_item_events: int = 100,
    max_rows: int = 1000,
) -> RunArtifacts:
    """At the end of a flow run: the summary artifact, the failure and rejection
    tables (only when there are some) and, with `events`, the run's events.

    Call it inside the flow run. It never raises: what the API refuses is logged.
    """
    prefix = artifact_key(key_prefix or report.flow)
    summary_id = _safely(
        "summary artifact",
        create_markdown_artifact,
        markdown=render_summary_markdown(report, slowest=slowest, run_url=_run_url()),
        key=f"{prefix}-summary",
        description=f"{report.state}: {_counts_line(report)}",
    )
    failures_id = rejections_id = None
    if report.failures:
        failures_id = _safely(
            "failures table artifact",
            create_table_artifact,
            table=failure_rows(report, max_rows),
            key=f"{prefix}-failures",
            description=_rows_description("failed items", len(report.failures), max_rows),
        )
    if report.rejected:
        rejections_id = _safely(
            "rejections table artifact",
            create_table_artifact,
            table=rejection_rows(report, max_rows),
            key=f"{prefix}-rejections",
            description=_rows_description("rejected items", len(report.rejected), max_rows),
        )
    emitted = 0
    if events:
        try:
            emitted = emit_run_events(report, max_item_events=max_item_events)
        except Exception:
            logger.warning("could not emit the run's events", exc_info=True)
    return RunArtifacts(
        summary=summary_id, failures=failures_id, rejections=rejections_id, events=emitted
    )


def _safely(what: str, create: Callable[..., Any], **kwargs: Any) -> UUID | None:
    """Create an artifact with the sync API (even in an async flow); a refusal is
    logged, never raised: the run's outcome does not depend on its report."""
    try:
        return cast(UUID, call_sync(create, **kwargs))
    except Exception:
        logger.warning("could not create the %s", what, exc_info=True)
        return None


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
            payload=_failure_row(failure),
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


def _failure_row(failure: Failure) -> dict[str, Any]:
    return {
        "uri": safe_uri(failure.uri),
        "stage": failure.stage,
        "error_type": failure.error_type,
        "message": _short(failure.message),
        "retryable": failure.retryable,
    }


def _rejection_row(rejection: Rejection) -> dict[str, Any]:
    return {"uri": safe_uri(rejection.uri), "errors": _short("; ".join(rejection.errors))}


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


def _run_url() -> str | None:
    from prefect.runtime import flow_run
    from prefect.settings import PREFECT_UI_URL

    if flow_run.id is None or not PREFECT_UI_URL.value():
        return None
    return str(flow_run.ui_url)


def _counts_line(report: RunReport) -> str:
    values = report.counts.model_dump().items()
    return ", ".join(f"{name} {value}" for name, value in values if value) or "nothing to do"


def _rows_description(what: str, count: int, limit: int) -> str:
    return f"{count} {what}" if count <= limit else f"first {limit} of {count} {what}"


def _more(count: int, listed: int) -> list[str]:
    hidden = count - listed
    return [f"- ... and {hidden} more (see the table artifact)", ""] if hidden > 0 else [""]


def _cell(text: str) -> str:
    """Safe inside a Markdown table cell or list item."""
    return text.replace("|", "\\|").replace("\n", " ").replace("`", "'").replace("<", "&lt;")
