"""Progress of a run by phase (counts, totals, rates, ETA) and its delivery to listeners.

`ProgressReporter` is cheap to update from any thread; listeners (the CLI bar, the
Prefect progress artifact, a caller's callback) receive immutable
`ProgressSnapshot`s from one background thread, at most `max_rate_hz` times a
second and always once at `finish()`. A listener that raises is disabled, never
the run. A batch reports each stage it passes (`batch_progress`, called by
`ingest.pipeline.run_batch`) to the reporter active in its context, and the flow
settles the batch when its result comes back (`record_batch`).
"""

from .batches import (
    BatchProgress,
    batch_key,
    batch_progress,
    end_discovery,
    record_batch,
    record_discovered,
)
from .context import active_reporter, attached_listeners, progress_listeners
from .reporter import ProgressReporter
from .snapshot import (
    DISCOVERING,
    ITEM_PHASES,
    PHASES,
    PhaseSnapshot,
    ProgressListener,
    ProgressSnapshot,
    format_duration,
    format_rate,
)

__all__ = [
    "DISCOVERING",
    "ITEM_PHASES",
    "PHASES",
    "BatchProgress",
    "PhaseSnapshot",
    "ProgressListener",
    "ProgressReporter",
    "ProgressSnapshot",
    "active_reporter",
    "attached_listeners",
    "batch_key",
    "batch_progress",
    "end_discovery",
    "format_duration",
    "format_rate",
    "progress_listeners",
    "record_batch",
    "record_discovered",
]
