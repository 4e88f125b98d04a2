"""The hostile case registry: each case a small declarative record (what it is, the handling
it must get, its time and memory bounds), and the measured result of running it.

Results are appended as JSON lines to `results_path()` (one file per session, so that test
modules imported under different names share it); `summarise` and `render_table` turn them
into the numbers of docs/hostile-report.md.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import psutil  # type: ignore[import-untyped]

#: How an item or request must end. `new`/`updated`: stored (with warnings at most);
#: `rejected`: recorded with a reason starting with `code`; `skipped`: not ingested by
#: policy or type, with the reason code `code`; `failed`: a failure whose
#: error type is `code`; `refused`: never requested (scope, robots, private address);
#: `bounded`: a crawl or run that must stop within its limits; `recovered`: a fault after
#: which `ingest check` passes and a re-run completes.
Handling = Literal[
    "new", "updated", "rejected", "skipped", "failed", "refused", "bounded", "recovered"
]

MB = 1024 * 1024


@dataclass(frozen=True)
class Expect:
    handling: Handling
    code: str | None = None
    message: str | None = None

    def describe(self) -> str:
        parts: list[str] = [self.handling]
        if self.code:
            parts.append(f"`{self.code}`")
        return " ".join(parts)


@dataclass(frozen=True)
class Case:
    name: str
    category: str
    runner: str
    summary: str
    expect: Expect
    max_seconds: float = 5.0
    max_peak_mb: float = 64.0
    #: A product bug this case shows (with the report's reproducer); the table counts it.
    known_failure: str | None = None
    build: Callable[..., Any] | None = field(default=None, compare=False, repr=False)


@dataclass
class CaseResult:
    name: str
    category: str
    expected: str
    actual: str
    handled: bool
    crashed: bool = False
    lost: int = 0
    duplicated: int = 0
    leaked: int = 0
    seconds: float = 0.0
    peak_mb: float = 0.0
    max_seconds: float = 0.0
    max_peak_mb: float = 0.0
    known_failure: str | None = None
    detail: str = ""
    #: Wall seconds, when `seconds` is CPU time (a `WorkClock`); 0 when `seconds` is wall.
    wall_seconds: float = 0.0

    @property
    def max_wall_seconds(self) -> float:
        """The hang guard of a CPU-timed case: wall time a loaded machine cannot explain."""
        return max(self.max_seconds * HANG_FACTOR, MIN_HANG_S)

    @property
    def within_bounds(self) -> bool:
        hung = self.wall_seconds > self.max_wall_seconds
        return self.seconds <= self.max_seconds and not hung and self.peak_mb <= self.max_peak_mb

    @property
    def ok(self) -> bool:
        clean = not (self.crashed or self.lost or self.duplicated or self.leaked)
        return self.handled and clean and self.within_bounds


class RssSampler(threading.Thread):
    """Samples this process's resident set every 10 ms: its peak growth in MB."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self._process = psutil.Process()
        self._base = self._process.memory_info().rss
        self._peak = self._base
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.01):
            self._peak = max(self._peak, self._process.memory_info().rss)

    def stop(self) -> float:
        self._done.set()
        self.join()
        return float(self._peak - self._base) / MB


#: A CPU-timed case also fails when its wall time passes HANG_FACTOR times its bound
#: (at least MIN_HANG_S): a real hang burns no CPU, and other work on the machine does not
#: stretch CPU time the way it stretches wall time.
HANG_FACTOR = 10.0
MIN_HANG_S = 30.0


class WorkClock:
    """CPU seconds spent by this process and its child processes (running, or ended and
    reaped) between `start` and `stop`, and the wall seconds: a bound on CPU time holds on
    a loaded machine, where wall time depends on what else runs."""

    def __init__(self) -> None:
        self._me = psutil.Process()
        self.cpu = 0.0
        self.wall = 0.0

    def _children(self) -> dict[int, float]:
        spent: dict[int, float] = {}
        for child in self._me.children(recursive=True):
            try:
                times = child.cpu_times()
            except psutil.Error:
                continue
            spent[child.pid] = times.user + times.system
        return spent

    def _reaped(self) -> float:
        times = os.times()
        return times.children_user + times.children_system

    def start(self) -> WorkClock:
        self._started = (time.process_time(), self._reaped(), self._children())
        self._wall = time.perf_counter()
        return self

    def stop(self) -> WorkClock:
        own, reaped, children = self._started
        now = self._children()
        live = sum(spent - children.get(pid, 0.0) for pid, spent in now.items())
        self.cpu = time.process_time() - own + self._reaped() - reaped + live
        self.wall = time.perf_counter() - self._wall
        return self

    def __enter__(self) -> WorkClock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


REGISTRY: dict[str, Case] = {}


def register(*cases: Case) -> None:
    for case in cases:
        if case.name in REGISTRY and REGISTRY[case.name] != case:
            raise ValueError(f"hostile case {case.name!r} registered twice")
        REGISTRY[case.name] = case


def results_path() -> Path:
    """The JSON lines file of this session's results (HOSTILE_RESULTS, or a temp file
    named after the pytest process, set up by tests/hostile/conftest.py)."""
    configured = os.environ.get("HOSTILE_RESULTS")
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / f"hostile-results-{os.getpid()}.jsonl"


def record(case: Case, actual: str, handled: bool, **measured: Any) -> CaseResult:
    result = CaseResult(
        name=case.name,
        category=case.category,
        expected=case.expect.describe(),
        actual=actual,
        handled=handled,
        max_seconds=case.max_seconds,
        max_peak_mb=case.max_peak_mb,
        known_failure=case.known_failure,
        **measured,
    )
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(result)) + "\n")
    return result


def load_results(path: Path | None = None) -> list[CaseResult]:
    path = path or results_path()
    if not path.exists():
        return []
    latest: dict[str, CaseResult] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            latest[data["name"]] = CaseResult(**data)
    return list(latest.values())


@dataclass(frozen=True)
class Totals:
    tried: int
    handled: int
    crashes: int
    lost: int
    duplicated: int
    leaked: int
    out_of_bounds: int
    known_failures: int


def summarise(results: Iterable[CaseResult]) -> Totals:
    results = list(results)
    return Totals(
        tried=len(results),
        handled=sum(r.handled for r in results),
        crashes=sum(r.crashed for r in results),
        lost=sum(r.lost for r in results),
        duplicated=sum(r.duplicated for r in results),
        leaked=sum(r.leaked for r in results),
        out_of_bounds=sum(not r.within_bounds for r in results),
        known_failures=sum(bool(r.known_failure) for r in results),
    )


def render_summary(results: Iterable[CaseResult]) -> str:
    """The totals per category and overall, with the slowest time and largest peak."""
    results = list(results)
    lines = [
        "| category | cases tried | handled with a clear error or stored | crashes "
        "| items lost | items duplicated | secrets leaked | outside time/memory bounds "
        "| known failures | slowest s | largest peak MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    groups = sorted({r.category for r in results})
    for name, group in [*((c, [r for r in results if r.category == c]) for c in groups),
                        ("**all**", results)]:  # fmt: skip
        totals = summarise(group)
        slowest = max((r.seconds for r in group), default=0.0)
        largest = max((r.peak_mb for r in group if r.max_peak_mb), default=0.0)
        lines.append(
            f"| {name} | {totals.tried} | {totals.handled} | {totals.crashes} | {totals.lost} "
            f"| {totals.duplicated} | {totals.leaked} | {totals.out_of_bounds} "
            f"| {totals.known_failures} | {slowest:.1f} | {largest:.0f} |"
        )
    return "\n".join(lines) + "\n"


def render_table(results: Iterable[CaseResult]) -> str:
    results = sorted(results, key=lambda r: (r.category, r.name))
    lines = [
        render_summary(results),
        "| category | case | expected | actual | ok | s (bound) | peak MB (bound) |",
        "| --- | --- | --- | --- | :-: | ---: | ---: |",
    ]
    for r in results:
        mark = "yes" if r.ok else ("known bug" if r.known_failure else "**NO**")
        actual = r.actual.replace("|", "\\|").replace("\n", " ")[:130]
        memory = f"{r.peak_mb:.1f} ({r.max_peak_mb:g})" if r.max_peak_mb else "not measured"
        lines.append(
            f"| {r.category} | {r.name} | {r.expected} | {actual} | {mark} "
            f"| {r.seconds:.2f}{' CPU' if r.wall_seconds else ''} ({r.max_seconds:g}) "
            f"| {memory} |"
        )
    known = [r for r in results if r.known_failure]
    if known:
        lines += ["", "Known failures (product bugs, reported with a reproducer):", ""]
        lines += [f"- `{r.name}`: {r.known_failure}" for r in known]
    return "\n".join(lines) + "\n"
