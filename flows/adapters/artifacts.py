"""Progress and run summaries as Prefect artifacts: a live progress artifact on the
flow run, and summary and table artifacts at the end (events: `events.py`).

What they show is rendered in `summary.py`: uris with credentials masked, counts,
stages and reasons, never document contents, never secrets.
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
)
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import ArtifactUpdate
from prefect.context import FlowRunContext

from ingest.models import RunReport
from ingest.progress import DISCOVERING, ProgressSnapshot

from ._prefect_compat import call_sync
from .events import emit_run_events
from .summary import failure_rows, rejection_rows, render_summary_markdown

logger = logging.getLogger(__name__)


def artifact_key(text: str) -> str:
    """`text` as a valid artifact key: lowercase letters, digits and dashes."""
    key = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return re.sub(r"-{2,}", "-", key) or "ingest"


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
        self._client: SyncPrefectClient | None = None
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

    @property
    def description(self) -> str | None:
        """The last description sent, if any."""
        return None if self._last is None else self._last[1]

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
        if self._client is None:
            # One client for every update: Prefect's update_progress_artifact builds a new
            # one per call, and each new client loads the CA bundle (the bulk of a flow
            # test's CPU time in the delivery thread).
            self._client = get_client(sync_client=True)
        self._client.update_artifact(
            artifact_id=self.artifact_id,
            artifact=ArtifactUpdate(data=percent, description=description),
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
