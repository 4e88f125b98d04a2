"""`ProgressReporter`: counts, totals, rates and ETA per phase, updated from any thread
and delivered to listeners from one background thread."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from types import MappingProxyType, TracebackType

from ..models import Outcome
from .context import ACTIVE
from .snapshot import (
    ITEM_PHASES,
    PHASES,
    PhaseSnapshot,
    ProgressListener,
    ProgressSnapshot,
    overall_eta,
    overall_fraction,
)

logger = logging.getLogger(__name__)


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
        self._active_token = ACTIVE.set(self)
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
                ACTIVE.reset(token)
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
            fraction=overall_fraction(phases, finished),
            eta_s=overall_eta(phases),
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
        elif state.total is None or not state.final:
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
