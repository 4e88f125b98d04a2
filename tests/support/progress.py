"""Test doubles for progress reporting: a clock the test moves by hand, and a listener
that keeps every snapshot it is sent."""

from __future__ import annotations

import threading

from ingest.progress import ProgressSnapshot


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


class Recorder:
    """A progress listener that records the snapshots, from any thread."""

    def __init__(self) -> None:
        self.snapshots: list[ProgressSnapshot] = []
        self._lock = threading.Lock()

    def __call__(self, snapshot: ProgressSnapshot) -> None:
        with self._lock:
            self.snapshots.append(snapshot)
