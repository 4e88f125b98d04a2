"""Progress of a run by phase (counts, totals, rates, ETA) and its delivery to listeners.

`ProgressReporter` is cheap to update from any thread; listeners (the CLI bar, the
Prefect progress artifact, a caller's callback) receive immutable
`ProgressSnapshot`s from one background thread, at most `max_rate_hz` times a
second and always once at `finish()`. A listener that raises is disabled, never
the run. A batch reports each stage it passes (`batch_progress`, called by
`ingest.pipeline.run_batch`) to the reporter active in its context, and the flow
settles the batch when its result comes back (`record_batch`).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import Any

from .models import Counts, Outcome, SourceItem, Stage

logger = logging.getLogger(__name__)

PHASES: tuple[str, ...] = tuple(stage.value for stage in Stage)
"""The default phases, in pipeline order: discover, fetch, validate, process, store."""

ITEM_PHASES: tuple[str, ...] = PHASES[1:]
"""The phases every pending item goes through inside a batch."""


@dataclass(frozen=True, slots=True)
class PhaseSnapshot:
    """One phase at one moment.

    `total` is None while unknown. `total_final` is False while the total can still
    grow (items are still being discovered), so `eta_s` is then a lower bound.
    """

    name: str
    done: int
    total: int | None
    total_final: bool
    complete: bool
    rate: float
    overall_rate: float
    elapsed_s: float
    eta_s: float | None

    @property
    def started(self) -> bool:
        return self.done > 0 or self.total is not None or self.complete

    @property
    def fraction(self) -> float | None:
        if self.total is None:
            return 1.0 if self.complete else None
        if self.total <= 0:
            return 1.0 if self.complete or self.total_final else 0.0
        return min(1.0, self.done / self.total)


@dataclass(frozen=True, slots=True)
class ProgressSnapshot:
    """The whole run at one moment: every phase, the outcome counts and the estimate."""

    seq: int
    elapsed_s: float
    phases: tuple[PhaseSnapshot, ...]
    outcomes: Mapping[str, int]
    fraction: float | None
    eta_s: float | None
    finished: bool

    def phase(self, name: str) -> PhaseSnapshot:
        for phase in self.phases:
            if phase.name == name:
                return phase
        raise KeyError(name)

    @property
    def active_phases(self) -> tuple[PhaseSnapshot, ...]:
        return tuple(phase for phase in self.phases if phase.started)

    def describe(self) -> str:
        """One line: `fetch 120/400 (35.2/s, ETA 8s) · ... | new 100, rejected 2 | ETA 8s`."""
        parts = []
        for phase in self.active_phases:
            count = f"{phase.done}" if phase.total is None else f"{phase.done}/{phase.total}"
            if not phase.total_final and phase.total is not None:
                count += "+"
            detail = format_rate(phase.rate if not phase.complete else phase.overall_rate)
            if not phase.complete and phase.eta_s is not None:
                detail += f", ETA {format_duration(phase.eta_s)}"
            parts.append(f"{phase.name} {count} ({detail})")
        line = " · ".join(parts) or "starting"
        outcomes = ", ".join(f"{name} {value}" for name, value in self.outcomes.items() if value)
        if outcomes:
            line += f" | {outcomes}"
        if self.finished:
            line += f" | done in {format_duration(self.elapsed_s)}"
        elif self.eta_s is not None:
            line += f" | ETA {format_duration(self.eta_s)}"
        return line

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, for callers that forward progress elsewhere."""
        return {
            "seq": self.seq,
            "elapsed_s": round(self.elapsed_s, 3),
            "fraction": self.fraction,
            "eta_s": self.eta_s,
            "finished": self.finished,
            "outcomes": dict(self.outcomes),
            "phases": {
                phase.name: {
                    "done": phase.done,
                    "total": phase.total,
                    "total_final": phase.total_final,
                    "complete": phase.complete,
                    "rate": round(phase.rate, 3),
                    "overall_rate": round(phase.overall_rate, 3),
                    "elapsed_s": round(phase.elapsed_s, 3),
                    "eta_s": phase.eta_s,
                }
                for phase in self.phases
            },
        }


ProgressListener = Callable[[ProgressSnapshot], None | Awaitable[None]]
"""A callable or coroutine function that receives snapshots; a returned awaitable is awaited."""


def format_rate(rate: float) -> str:
    if rate >= 100:
        return f"{rate:,.0f}/s"
    return f"{rate:.1f}/s"


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02}m"
    if minutes:
        return f"{minutes}m{secs:02}s"
    return f"{secs}s"


class _Phase:
    """Mutable counters of one phase; only touched under the reporter's lock."""

    __slots__ = (
        "name",
        "done",
        "total",
        "final",
        "complete",
        "started_at",
        "ended_at",
        "samples",
        "last_sample_at",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.done = 0
        self.total: int | None = None
        self.final = False
        self.complete = False
        self.started_at: float | None = None
        self.ended_at: float | None = None
        # (time, done) pairs, oldest first; samples[0] is the newest one at or
        # before the start of the rate window.
        self.samples: deque[tuple[float, int]] = deque()
        self.last_sample_at = float("-inf")

    def start(self, now: float) -> None:
        if self.started_at is None:
            self.started_at = now
            self.samples.append((now, self.done))
            self.last_sample_at = now


class ProgressReporter:
    """Counts, totals, rates and ETA per phase, delivered to listeners.

    Update it from any thread: `set_total` / `add_total` / `close_total`,
    `advance`, `advance_batch` / `settle_batch`, `record_outcome`, `complete_phase`,
    and `finish()` once at the end. Used as a context manager it is also the
    *active* reporter of its context (`active_reporter()`): batches started from
    there, in threads too (Prefect's thread pool and `asyncio.to_thread` copy the
    context), report their stages to it. Listeners run on one background thread
    (started on the first delivery, inside a copy of the creator's context
    variables); coroutine listeners run on that thread's own event loop.
    """

    idle_exit_s: float = 120.0
    """The delivery thread ends after this long without a change (and restarts on one)."""

    def __init__(
        self,
        listeners: Iterable[ProgressListener] = (),
        *,
        phases: Iterable[str] = PHASES,
        max_rate_hz: float = 4.0,
        window_s: float = 10.0,
        heartbeat_s: float | None = 1.0,
        clock: Callable[[], float] = time.monotonic,
        finish_timeout_s: float = 10.0,
    ) -> None:
        if max_rate_hz <= 0:
            raise ValueError("max_rate_hz must be positive")
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        self._clock = clock
        self._interval = 1.0 / max_rate_hz
        self._window = window_s
        self._sample_step = window_s / 20
        self._heartbeat = heartbeat_s
        self._finish_timeout = finish_timeout_s
        self._lock = threading.Lock()
        self._phases = {str(name): _Phase(str(name)) for name in phases}
        if not self._phases:
            raise ValueError("a reporter needs at least one phase")
        self._outcomes = {outcome.value: 0 for outcome in Outcome}
        self._started_at = clock()
        self._ended_at: float | None = None
        self._seq = 0
        self._next_emit_at = float("-inf")
        self._dirty = False
        self._final: ProgressSnapshot | None = None
        self._listeners: list[ProgressListener] = []
        self._has_listeners = False
        # Per batch in flight: items reported past each phase. A settled batch
        # ignores late reports, so no item is counted twice in a phase.
        self._batches: dict[str, dict[str, int]] = {}
        self._settled: set[str] = set()
        self._active_token: contextvars.Token[ProgressReporter | None] | None = None
        # Delivery state, guarded by _cond.
        self._cond = threading.Condition()
        self._requested = 0
        self._handled = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._context = contextvars.copy_context()
        for listener in listeners:
            self.add_listener(listener)

    # -- listeners -----------------------------------------------------------

    def add_listener(self, listener: ProgressListener) -> None:
        with self._cond:
            self._listeners.append(listener)
            self._has_listeners = True

    @property
    def listeners(self) -> tuple[ProgressListener, ...]:
        with self._cond:
            return tuple(self._listeners)

    # -- updates (any thread) ---------------------------------------------------

    def set_total(self, phase: str, total: int) -> None:
        """The phase has exactly `total` items (a known, final total)."""
        with self._lock:
            now = self._clock()
            state = self._phase(phase)
            state.start(now)
            state.total = total
            state.final = True
            due = self._due(now)
        if due:
            self._request()

    def start_phase(self, phase: str, at: float | None = None) -> None:
        """The phase began at `at` (a time of the reporter's clock; default now),
        unless it had already begun."""
        with self._lock:
            self._phase(phase).start(self._clock() if at is None else at)

    @property
    def started_at(self) -> float:
        """When the reporter was created, on its clock."""
        return self._started_at

    def add_total(self, phase: str, n: int = 1) -> None:
        """The phase has `n` more items than known so far (a growing total)."""
        with self._lock:
            now = self._clock()
            state = self._phase(phase)
            state.start(now)
            state.total = (state.total or 0) + n
            due = self._due(now)
        if due:
            self._request()

    def close_total(self, phase: str) -> None:
        """The phase's total will not grow any more (discovery is over)."""
        with self._lock:
            now = self._clock()
            state = self._phase(phase)
            state.start(now)
            if state.total is None:
                state.total = state.done
            state.final = True
            due = self._due(now)
        if due:
            self._request()

    def advance(self, phase: str, n: int = 1) -> None:
        """`n` more items went through `phase`."""
        with self._lock:
            now = self._clock()
            self._advance(self._phase(phase), n, now)
            due = self._due(now)
        if due:
            self._request()

    def advance_batch(self, batch: str, phase: str, passed: int) -> None:
        """`passed` items of batch `batch` are past `phase` so far.

        Only what goes beyond the batch's earlier report for the phase is counted
        (a retried batch reports again from zero), and nothing once the batch is
        settled.
        """
        with self._lock:
            if batch in self._settled:
                return
            state = self._phase(phase)
            seen = self._batches.setdefault(batch, {})
            n = passed - seen.get(phase, 0)
            if n <= 0:
                return
            seen[phase] = passed
            now = self._clock()
            self._advance(state, n, now)
            due = self._due(now)
        if due:
            self._request()

    def settle_batch(self, batch: str, items: int, phases: Iterable[str] = ITEM_PHASES) -> None:
        """The batch is back: each of its `items` is past every one of `phases`
        (done or skipped), whatever the batch reported on its way."""
        with self._lock:
            seen = self._batches.pop(batch, {})
            self._settled.add(batch)
            now = self._clock()
            for phase in phases:
                n = items - seen.get(phase, 0)
                if n > 0:
                    self._advance(self._phase(phase), n, now)
            due = self._due(now)
        if due:
            self._request()

    def record_outcome(self, outcome: Outcome | str, n: int = 1) -> None:
        """`n` items ended with `outcome` (new, updated, unchanged, ...)."""
        key = outcome.value if isinstance(outcome, Outcome) else str(outcome)
        with self._lock:
            now = self._clock()
            self._outcomes[key] = self._outcomes.get(key, 0) + n
            due = self._due(now)
        if due:
            self._request()

    def complete_phase(self, phase: str) -> None:
        """The phase is over: its total becomes final and it stops counting time."""
        with self._lock:
            now = self._clock()
            state = self._phase(phase)
            state.start(now)
            self._complete(state, now)
            due = self._due(now)
        if due:
            self._request()

    # -- reading -------------------------------------------------------------

    def snapshot(self) -> ProgressSnapshot:
        with self._lock:
            if self._final is not None:
                return self._final
            return self._snapshot(self._clock())

    @property
    def finished(self) -> bool:
        with self._lock:
            return self._final is not None

    # -- delivery --------------------------------------------------------------

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Wait until every delivery requested so far has reached the listeners."""
        with self._cond:
            return self._cond.wait_for(lambda: self._handled >= self._requested, timeout)

    def finish(self) -> ProgressSnapshot:
        """Close every phase and deliver the final snapshot; returns it. Idempotent."""
        with self._lock:
            if self._final is not None:
                return self._final
            now = self._clock()
            for state in self._phases.values():
                if state.started_at is not None:
                    self._complete(state, now)
            self._ended_at = now
            self._final = self._snapshot(now, finished=True)
            final = self._final
        with self._cond:
            self._stopping = True
            if self._thread is None and not self._listeners:
                return final
            self._requested += 1
            thread = self._ensure_thread()
            self._cond.notify_all()
        thread.join(self._finish_timeout)
        if thread.is_alive():
            logger.warning(
                "progress listeners did not finish within %.0fs; not waiting for them",
                self._finish_timeout,
            )
        return final

    def __enter__(self) -> ProgressReporter:
        self._active_token = _ACTIVE.set(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        token, self._active_token = self._active_token, None
        if token is not None:
            try:
                _ACTIVE.reset(token)
            except ValueError:  # left in another context than it was entered in
                pass
        self.finish()

    # -- internals -------------------------------------------------------------

    def _phase(self, phase: str) -> _Phase:
        state = self._phases.get(phase)
        if state is None:
            raise ValueError(f"unknown phase {phase!r}; phases: {', '.join(self._phases)}")
        return state

    def _advance(self, state: _Phase, n: int, now: float) -> None:
        """Under the lock."""
        if state.started_at is None:
            state.start(now)
        state.done += n
        if now - state.last_sample_at >= self._sample_step:
            self._sample(state, now)

    def _sample(self, state: _Phase, now: float) -> None:
        samples = state.samples
        samples.append((now, state.done))
        state.last_sample_at = now
        horizon = now - self._window
        while len(samples) > 1 and samples[1][0] <= horizon:
            samples.popleft()

    def _complete(self, state: _Phase, now: float) -> None:
        if state.complete:
            return
        self._sample(state, now)
        state.complete = True
        state.final = True
        state.ended_at = now
        if state.total is None or state.total < state.done:
            state.total = state.done

    def _due(self, now: float) -> bool:
        """Under the lock: should listeners hear about the change made at `now`?"""
        if now >= self._next_emit_at:
            self._next_emit_at = now + self._interval
            self._dirty = False
            return self._has_listeners
        self._dirty = True
        return False

    def _snapshot(self, now: float, finished: bool = False) -> ProgressSnapshot:
        self._seq += 1
        phases = tuple(self._phase_snapshot(state, now) for state in self._phases.values())
        return ProgressSnapshot(
            seq=self._seq,
            elapsed_s=(self._ended_at if self._ended_at is not None else now) - self._started_at,
            phases=phases,
            outcomes=MappingProxyType(dict(self._outcomes)),
            fraction=_overall_fraction(phases, finished),
            eta_s=_overall_eta(phases),
            finished=finished,
        )

    def _phase_snapshot(self, state: _Phase, now: float) -> PhaseSnapshot:
        if state.started_at is None:
            return PhaseSnapshot(state.name, 0, None, False, False, 0.0, 0.0, 0.0, None)
        end = state.ended_at if state.ended_at is not None else now
        elapsed = end - state.started_at
        overall = state.done / elapsed if elapsed > 0 else 0.0
        if state.complete:
            rate = overall
        else:
            horizon = now - self._window
            samples = state.samples
            while len(samples) > 1 and samples[1][0] <= horizon:
                samples.popleft()
            since, done_then = samples[0]
            span = now - since
            rate = (state.done - done_then) / span if span > 0 else 0.0
        eta: float | None
        if state.complete:
            eta = 0.0
        elif state.total is None:
            eta = None
        elif state.done >= state.total:
            eta = 0.0
        elif rate > 0:
            eta = (state.total - state.done) / rate
        else:
            eta = None
        return PhaseSnapshot(
            name=state.name,
            done=state.done,
            total=state.total,
            total_final=state.final,
            complete=state.complete,
            rate=rate,
            overall_rate=overall,
            elapsed_s=elapsed,
            eta_s=eta,
        )

    def _request(self) -> None:
        with self._cond:
            if self._stopping or not self._listeners:
                return
            self._requested += 1
            self._ensure_thread()
            self._cond.notify_all()

    def _ensure_thread(self) -> threading.Thread:
        """Under _cond: the delivery thread, started on first use."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._context.run,
                args=(self._deliver_loop,),
                name="ingest-progress",
                daemon=True,
            )
            self._thread.start()
        return self._thread

    def _deliver_loop(self) -> None:
        loop: asyncio.AbstractEventLoop | None = None
        last_request = time.monotonic()
        try:
            while True:
                with self._cond:
                    while self._handled >= self._requested and not self._stopping:
                        if time.monotonic() - last_request > self.idle_exit_s:
                            # Nothing changed for long, or finish() was never called:
                            # end the thread; the next request starts another one.
                            self._thread = None
                            return
                        if not self._cond.wait(self._interval):
                            break
                    target = self._requested
                    stopping = self._stopping
                    requested = target > self._handled
                if stopping or requested:
                    last_request = time.monotonic()
                    loop = self._deliver(self.snapshot(), loop)
                elif self._tick_due():
                    loop = self._deliver(self.snapshot(), loop)
                with self._cond:
                    self._handled = max(self._handled, target)
                    self._cond.notify_all()
                if stopping:
                    return
        finally:
            if loop is not None:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

    def _tick_due(self) -> bool:
        """Deliver a change that was throttled, or a heartbeat while nothing moves."""
        with self._lock:
            if self._final is not None:
                return False
            now = self._clock()
            last = self._next_emit_at - self._interval
            due = (self._dirty and now >= self._next_emit_at) or (
                self._heartbeat is not None and now - last >= self._heartbeat
            )
            if due:
                self._next_emit_at = now + self._interval
                self._dirty = False
            return due

    def _deliver(
        self, snapshot: ProgressSnapshot, loop: asyncio.AbstractEventLoop | None
    ) -> asyncio.AbstractEventLoop | None:
        for listener in self.listeners:
            try:
                result = listener(snapshot)
                if inspect.isawaitable(result):
                    if loop is None:
                        loop = asyncio.new_event_loop()
                    loop.run_until_complete(_await(result))
            except Exception:
                logger.warning(
                    "progress listener %r failed and is disabled for the rest of the run",
                    listener,
                    exc_info=True,
                )
                with self._cond:
                    if listener in self._listeners:
                        self._listeners.remove(listener)
        return loop


async def _await(awaitable: Awaitable[None]) -> None:
    await awaitable


def _overall_fraction(phases: tuple[PhaseSnapshot, ...], finished: bool) -> float | None:
    """Items done over items known, across phases with a total.

    Below 1.0 until the run finishes while a started phase's total can still grow.
    """
    if finished:
        return 1.0
    done = total = 0
    open_total = False
    for phase in phases:
        if not phase.started:
            continue
        if phase.total is None or not phase.total_final:
            open_total = True
        if phase.total is not None:
            done += min(phase.done, phase.total)
            total += phase.total
    if total == 0:
        return None
    fraction = done / total
    return min(fraction, 0.99) if open_total else fraction


def _overall_eta(phases: tuple[PhaseSnapshot, ...]) -> float | None:
    """Phases overlap in a pipeline: the run ends when the last one ends."""
    etas = [phase.eta_s for phase in phases if not phase.complete and phase.eta_s is not None]
    return max(etas) if etas else None


_ATTACHED: contextvars.ContextVar[tuple[ProgressListener, ...]] = contextvars.ContextVar(
    "ingest_progress_listeners", default=()
)


@contextmanager
def progress_listeners(*listeners: ProgressListener) -> Iterator[None]:
    """Attach listeners to the runs started inside this block (in this context).

    A flow that builds its reporter with `attached_listeners()` delivers to them:
    this is how the CLI shows a bar and how a program gets a callback, without
    passing objects through flow parameters.
    """
    token = _ATTACHED.set((*_ATTACHED.get(), *listeners))
    try:
        yield
    finally:
        _ATTACHED.reset(token)


def attached_listeners() -> tuple[ProgressListener, ...]:
    return _ATTACHED.get()


_ACTIVE: contextvars.ContextVar[ProgressReporter | None] = contextvars.ContextVar(
    "ingest_progress_reporter", default=None
)


def active_reporter() -> ProgressReporter | None:
    """The reporter of the run this code belongs to: the innermost one entered
    (`with reporter:`) in this context or the context it was copied from."""
    return _ACTIVE.get()


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
    reporter = _ACTIVE.get()
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
