"""What a progress listener receives: immutable snapshots of a run's phases, and
their formatting for a person."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..models import Stage

#: Starts a progress description while the run's share is unknown (discovery runs).
DISCOVERING = "discovering"

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
        if self.finished and self.fraction is not None and self.fraction < 1.0:
            line += f" | stopped at {self.fraction:.0%} after {format_duration(self.elapsed_s)}"
        elif self.finished:
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


def overall_fraction(phases: tuple[PhaseSnapshot, ...], finished: bool) -> float | None:
    """The share of the discovered items that are done: through the last item phase
    (an item is done when its write commits), or current at discovery. None while a
    started phase's total can still grow (discovery is running: a share would be a
    guess). A finished run keeps its real share: below 1.0 when it was cancelled or
    stopped on an error.
    """
    started = [phase for phase in phases if phase.started]
    if not finished and any(not phase.total_final for phase in started):
        return None
    discover = next((phase for phase in started if phase.name == Stage.DISCOVER.value), None)
    item_phases = [phase for phase in started if phase is not discover and phase.total]
    if not item_phases:
        return 1.0 if finished or discover is not None else None
    last = item_phases[-1]
    total = last.total or 0
    remaining = total - min(last.done, total)
    discovered = max(discover.done if discover is not None else 0, total)
    return 1.0 - remaining / discovered


def overall_eta(phases: tuple[PhaseSnapshot, ...]) -> float | None:
    """Phases overlap in a pipeline: the run ends when the last one ends. None while
    a started phase's total can still grow."""
    started = [phase for phase in phases if phase.started and not phase.complete]
    if any(not phase.total_final for phase in started):
        return None
    etas = [phase.eta_s for phase in started if phase.eta_s is not None]
    return max(etas) if etas else None
