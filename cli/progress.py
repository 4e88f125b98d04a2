"""Progress in the terminal: a rich bar per phase when stderr is a terminal, plain
lines every few seconds otherwise. Both write to stderr only, so `--json` output on
stdout stays pure JSON."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from ingest.progress import PhaseSnapshot, ProgressSnapshot, format_duration, format_rate


class PlainProgressListener:
    """One line on stderr (or `stream`) at most every `interval_s`, and one at the end."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        interval_s: float = 5.0,
        prefix: str = "progress: ",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._interval = interval_s
        self._prefix = prefix
        self._clock = clock
        self._last_at = float("-inf")

    def __call__(self, snapshot: ProgressSnapshot) -> None:
        if not snapshot.finished:
            if not snapshot.active_phases:
                return
            now = self._clock()
            if now - self._last_at < self._interval:
                return
            self._last_at = now
        stream = self._stream if self._stream is not None else sys.stderr
        stream.write(f"{self._prefix}{snapshot.describe()}\n")
        stream.flush()

    def close(self) -> None:
        """Nothing to release; here so both terminal listeners are used the same way."""

    def __enter__(self) -> PlainProgressListener:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class RichProgressListener:
    """One rich progress bar per active phase: count, rate and ETA.

    Starts drawing on the first snapshot with activity and stops at the final one;
    use it as a context manager (or call `close()`) so an interrupted run does not
    leave the terminal in live mode.
    """

    def __init__(self, console: Console | None = None, *, transient: bool = False) -> None:
        self.console = console or Console(stderr=True)
        self._transient = transient
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._closed = False
        self._lock = threading.Lock()

    def __call__(self, snapshot: ProgressSnapshot) -> None:
        with self._lock:
            if self._closed:
                return
            if self._progress is None:
                if not snapshot.active_phases:
                    return
                self._progress = self._new_progress()
                self._progress.start()
            progress = self._progress
            for phase in snapshot.active_phases:
                count, rate, eta = _fields(phase)
                task = self._tasks.get(phase.name)
                if task is None:
                    self._tasks[phase.name] = progress.add_task(
                        phase.name,
                        total=phase.total,
                        completed=phase.done,
                        count=count,
                        rate=rate,
                        eta=eta,
                    )
                else:
                    progress.update(
                        task,
                        total=phase.total,
                        completed=phase.done,
                        count=count,
                        rate=rate,
                        eta=eta,
                    )
            progress.refresh()
            if snapshot.finished:
                self._stop()

    def close(self) -> None:
        with self._lock:
            self._stop()

    def __enter__(self) -> RichProgressListener:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _new_progress(self) -> Progress:
        return Progress(
            TextColumn("[bold]{task.description:<9}"),
            BarColumn(bar_width=30),
            TextColumn("{task.fields[count]:>13}", justify="right"),
            TextColumn("{task.fields[rate]:>9}", justify="right"),
            TextColumn("{task.fields[eta]}"),
            console=self.console,
            auto_refresh=False,
            transient=self._transient,
            # stdout belongs to the command's output (`--json`): never capture it
            redirect_stdout=False,
        )

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
        self._closed = True


def _fields(phase: PhaseSnapshot) -> tuple[str, str, str]:
    """Count, rate and ETA columns of one phase."""
    if phase.total is None:
        count = f"{phase.done:,}"
    else:
        count = f"{phase.done:,}/{phase.total:,}{'' if phase.total_final else '+'}"
    if phase.complete:
        return count, format_rate(phase.overall_rate), "done"
    eta = "ETA -:--" if phase.eta_s is None else f"ETA {format_duration(phase.eta_s)}"
    return count, format_rate(phase.rate), eta


def terminal_progress(
    console: Console | None = None, *, interval_s: float = 5.0
) -> RichProgressListener | PlainProgressListener:
    """The listener for `ingest fs` / `ingest web`: a bar on a terminal, lines when piped.

    `console` is the stderr console (`cli.app.err_console`).
    """
    console = console or Console(stderr=True)
    if console.is_terminal and not console.is_dumb_terminal:
        return RichProgressListener(console)
    stream = None if console.stderr else console.file
    return PlainProgressListener(stream, interval_s=interval_s)
