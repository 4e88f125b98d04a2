"""The pipeline's view of progress: what a batch reports as its items pass a stage,
and what a flow records at discovery pages and batch results."""

from __future__ import annotations

from collections.abc import Sequence

from ..models import Counts, Outcome, SourceItem, Stage
from .context import ACTIVE
from .reporter import ProgressReporter
from .snapshot import ITEM_PHASES


def batch_key(items: Sequence[SourceItem]) -> str:
    """Names a batch the same way in the flow and in the task: by its first uri
    (a uri is in one batch of a run)."""
    return items[0].uri if items else ""


class BatchProgress:
    """What `run_batch` reports as its items pass a stage: one cheap call per
    batch and stage, to the active reporter, which coalesces them for listeners.
    Without an active reporter it does nothing."""

    __slots__ = ("_key", "_reporter")

    def __init__(self, reporter: ProgressReporter | None, key: str) -> None:
        self._reporter = reporter
        self._key = key

    def passed(self, items: int, *phases: Stage | str) -> None:
        """`items` of the batch are past each of `phases` (counted once per batch)."""
        reporter = self._reporter
        if reporter is None or items <= 0:
            return
        for phase in phases:
            name = phase.value if isinstance(phase, Stage) else phase
            reporter.advance_batch(self._key, name, items)


def batch_progress(items: Sequence[SourceItem]) -> BatchProgress:
    """The progress hook of one batch, bound to the active reporter (if any)."""
    reporter = ACTIVE.get()
    return BatchProgress(reporter, batch_key(items) if reporter is not None else "")


# -- the pipeline's view: what a flow calls at discovery pages and batch results --


def record_discovered(
    reporter: ProgressReporter, found: int, pending: int, unchanged: int = 0
) -> None:
    """A discovery page: `found` items listed, `pending` of them go to batches,
    `unchanged` are already current in the store (their outcome is final).

    Discovery is taken to have begun with the run, so its rate counts the time the
    first page took."""
    reporter.start_phase(Stage.DISCOVER.value, at=reporter.started_at)
    reporter.advance(Stage.DISCOVER.value, found)
    if unchanged:
        reporter.record_outcome(Outcome.UNCHANGED, unchanged)
    if pending:
        for phase in ITEM_PHASES:
            reporter.add_total(phase, pending)


def end_discovery(reporter: ProgressReporter) -> None:
    """Discovery is over: its count and every item phase's total are final."""
    reporter.complete_phase(Stage.DISCOVER.value)
    for phase in ITEM_PHASES:
        reporter.close_total(phase)


def record_batch(
    reporter: ProgressReporter, items: Sequence[SourceItem] | int, counts: Counts
) -> None:
    """A batch came back: each of its items is past every item phase (done or
    skipped), and its outcomes count.

    Given the batch's items, this tops up what the batch already reported stage by
    stage (`batch_progress`); given only a number, it advances every phase by it.
    """
    if isinstance(items, int):
        for phase in ITEM_PHASES:
            reporter.advance(phase, items)
    elif items:
        reporter.settle_batch(batch_key(items), len(items))
    for outcome in Outcome:
        value = getattr(counts, outcome.value)
        if value:
            reporter.record_outcome(outcome, value)
