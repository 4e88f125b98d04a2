"""The progress reporter without Prefect: arithmetic, throttling, listeners, threads."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from ingest.models import Counts, Outcome
from ingest.progress import (
    ITEM_PHASES,
    PHASES,
    ProgressReporter,
    ProgressSnapshot,
    attached_listeners,
    end_discovery,
    format_duration,
    format_rate,
    progress_listeners,
    record_batch,
    record_discovered,
)
from tests.support.progress import FakeClock, Recorder


def test_phases_are_the_pipeline_stages() -> None:
    assert PHASES == ("discover", "fetch", "validate", "process", "store")


def test_rate_and_eta_with_a_known_total() -> None:
    clock = FakeClock()
    reporter = ProgressReporter(clock=clock)
    reporter.set_total("fetch", 100)
    for _ in range(5):
        clock.tick(1.0)
        reporter.advance("fetch", 10)
    fetch = reporter.snapshot().phase("fetch")
    assert (fetch.done, fetch.total, fetch.total_final) == (50, 100, True)
    assert fetch.rate == pytest.approx(10.0)
    assert fetch.overall_rate == pytest.approx(10.0)
    assert fetch.eta_s == pytest.approx(5.0)
    assert fetch.fraction == pytest.approx(0.5)
    assert reporter.snapshot().eta_s == pytest.approx(5.0)


def test_windowed_rate_follows_a_slowdown_while_overall_rate_averages() -> None:
    clock = FakeClock()
    reporter = ProgressReporter(clock=clock, window_s=10.0)
    reporter.set_total("process", 1000)
    for _ in range(20):  # 20 s at 10 items/s
        clock.tick(1.0)
        reporter.advance("process", 10)
    for _ in range(20):  # then 20 s at 2 items/s
        clock.tick(1.0)
        reporter.advance("process", 2)
    phase = reporter.snapshot().phase("process")
    assert phase.done == 240
    assert phase.rate == pytest.approx(2.0, rel=0.1)
    assert phase.overall_rate == pytest.approx(6.0)
    assert phase.eta_s == pytest.approx((1000 - 240) / phase.rate)


def test_rate_decays_when_a_phase_stalls() -> None:
    clock = FakeClock()
    reporter = ProgressReporter(clock=clock, window_s=10.0)
    reporter.set_total("fetch", 100)
    clock.tick(1.0)
    reporter.advance("fetch", 10)
    clock.tick(60.0)
    phase = reporter.snapshot().phase("fetch")
    assert phase.rate == 0.0
    assert phase.eta_s is None


def test_eta_is_none_without_a_total_or_a_rate() -> None:
    clock = FakeClock()
    reporter = ProgressReporter(clock=clock)
    reporter.advance("discover", 30)
    clock.tick(2.0)
    reporter.advance("discover", 30)
    discover = reporter.snapshot().phase("discover")
    assert discover.total is None
    assert discover.eta_s is None
    assert discover.fraction is None
    reporter.set_total("store", 10)  # a total but nothing done yet: rate 0
    assert reporter.snapshot().phase("store").eta_s is None
    assert reporter.snapshot().eta_s is None


def test_growing_total_as_in_a_crawl() -> None:
    clock = FakeClock()
    reporter = ProgressReporter(clock=clock)
    reporter.add_total("fetch", 10)
    clock.tick(1.0)
    reporter.advance("fetch", 5)
    reporter.add_total("fetch", 20)
    snap = reporter.snapshot()
    fetch = snap.phase("fetch")
    assert (fetch.done, fetch.total, fetch.total_final) == (5, 30, False)
    # the total can still grow: counts and rates, but no share and no ETA
    assert fetch.eta_s is None
    assert snap.fraction is None
    assert snap.eta_s is None
    assert "5/30+" in snap.describe()
    assert "ETA" not in snap.describe()
    clock.tick(1.0)
    reporter.advance("fetch", 25)
    assert reporter.snapshot().fraction is None
    reporter.close_total("fetch")
    closed = reporter.snapshot()
    assert closed.phase("fetch").total_final
    assert closed.fraction == pytest.approx(1.0)


def test_overall_fraction_and_eta_across_phases() -> None:
    clock = FakeClock()
    reporter = ProgressReporter(clock=clock)
    reporter.advance("discover", 100)
    reporter.complete_phase("discover")
    reporter.set_total("fetch", 100)
    reporter.set_total("store", 100)
    clock.tick(10.0)
    reporter.advance("fetch", 50)  # 5/s, 10 s left
    reporter.advance("store", 20)  # 2/s, 40 s left
    snap = reporter.snapshot()
    assert snap.phase("discover").complete
    assert snap.phase("discover").fraction == 1.0
    assert snap.fraction == pytest.approx(20 / 100)  # an item is done once stored
    assert snap.eta_s == pytest.approx(40.0)
    assert [phase.name for phase in snap.active_phases] == ["discover", "fetch", "store"]


def test_a_run_stopped_part_way_keeps_its_real_share() -> None:
    clock = FakeClock()
    reporter = ProgressReporter(clock=clock)
    record_discovered(reporter, found=3000, pending=3000)
    end_discovery(reporter)
    clock.tick(10.0)
    record_batch(reporter, 1148, Counts(new=1148))
    running = reporter.snapshot()
    assert running.fraction == pytest.approx(1148 / 3000)
    assert running.eta_s is not None
    final = reporter.finish()  # the run was cancelled here
    assert final.finished
    assert final.fraction == pytest.approx(1148 / 3000)
    assert "stopped at 38%" in final.describe()
    assert "done in" not in final.describe()


def test_outcomes_and_finish_snapshot() -> None:
    clock = FakeClock()
    reporter = ProgressReporter(clock=clock)
    reporter.record_outcome(Outcome.NEW, 3)
    reporter.record_outcome("rejected")
    reporter.advance("fetch", 4)
    clock.tick(2.0)
    final = reporter.finish()
    assert final.finished
    assert final.fraction == 1.0
    assert final.elapsed_s == pytest.approx(2.0)
    assert final.outcomes["new"] == 3
    assert final.outcomes["rejected"] == 1
    assert final.phase("fetch").complete
    assert final.phase("fetch").total == 4
    assert "done in 2s" in final.describe()
    assert reporter.finish() is final
    assert reporter.snapshot() is final
    with pytest.raises(TypeError):
        final.outcomes["new"] = 5  # type: ignore[index]
    data = final.as_dict()
    assert data["phases"]["fetch"]["done"] == 4
    assert data["outcomes"]["new"] == 3


def test_unknown_phase_is_a_programming_error() -> None:
    reporter = ProgressReporter()
    with pytest.raises(ValueError, match="unknown phase"):
        reporter.advance("crawl")


def test_throttling_bounds_listener_calls_and_always_delivers_the_final_one() -> None:
    clock = FakeClock()
    recorder = Recorder()
    reporter = ProgressReporter([recorder], clock=clock, max_rate_hz=4, heartbeat_s=None)
    reporter.set_total("fetch", 10_000)
    for _ in range(10_000):  # 10 s of fake time, one item per millisecond
        clock.tick(0.001)
        reporter.advance("fetch")
        assert reporter.flush()
    final = reporter.finish()
    calls = recorder.snapshots
    assert 38 <= len(calls) <= 43
    assert calls[-1] is final
    assert [snap.finished for snap in calls].count(True) == 1
    times = [snap.elapsed_s for snap in calls[:-1]]
    assert all(b - a >= 0.25 - 1e-9 for a, b in zip(times, times[1:], strict=False))
    assert calls[-1].phase("fetch").done == 10_000


def test_burst_of_advances_is_coalesced() -> None:
    recorder = Recorder()
    reporter = ProgressReporter([recorder], heartbeat_s=None)
    started = time.monotonic()
    for _ in range(100_000):
        reporter.advance("store")
    reporter.finish()
    elapsed = time.monotonic() - started
    assert 1 <= len(recorder.snapshots) <= 4 * elapsed + 3
    assert recorder.snapshots[-1].phase("store").done == 100_000


def test_failing_listener_is_disabled_and_the_run_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    calls: list[int] = []
    good = Recorder()

    def broken(snapshot: ProgressSnapshot) -> None:
        calls.append(snapshot.seq)
        raise RuntimeError("listener bug")

    reporter = ProgressReporter([broken, good], clock=clock, heartbeat_s=None)
    with caplog.at_level(logging.WARNING, logger="ingest.progress"):
        for _ in range(10):
            clock.tick(1.0)
            reporter.advance("fetch")
            reporter.flush()
        final = reporter.finish()
    assert len(calls) == 1
    assert broken not in reporter.listeners
    assert good.snapshots[-1] is final
    assert len(good.snapshots) == 11
    warnings = [r for r in caplog.records if "disabled" in r.getMessage()]
    assert len(warnings) == 1


def test_async_listener_is_awaited() -> None:
    seen: list[ProgressSnapshot] = []

    async def listener(snapshot: ProgressSnapshot) -> None:
        await asyncio.sleep(0)
        seen.append(snapshot)

    reporter = ProgressReporter([listener])
    reporter.advance("fetch", 3)
    assert reporter.flush()
    final = reporter.finish()
    assert seen[0].phase("fetch").done == 3
    assert seen[-1] is final


def test_async_listener_works_when_the_caller_runs_an_event_loop() -> None:
    seen: list[int] = []

    async def listener(snapshot: ProgressSnapshot) -> None:
        seen.append(snapshot.phase("process").done)

    async def run() -> None:
        with ProgressReporter([listener]) as reporter:
            reporter.advance("process", 2)
            await asyncio.sleep(0)

    asyncio.run(run())
    assert seen[-1] == 2


def test_threads_advancing_at_once_give_exact_totals() -> None:
    recorder = Recorder()
    reporter = ProgressReporter([recorder])
    threads_n, per_thread = 8, 5_000

    def work() -> None:
        for _ in range(per_thread):
            reporter.add_total("fetch")
            reporter.advance("fetch")
            reporter.record_outcome(Outcome.NEW)

    threads = [threading.Thread(target=work) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = reporter.finish()
    expected = threads_n * per_thread
    assert final.phase("fetch").done == expected
    assert final.phase("fetch").total == expected
    assert final.outcomes["new"] == expected
    assert recorder.snapshots[-1] is final


def test_heartbeat_delivers_a_throttled_change_without_new_events() -> None:
    recorder = Recorder()
    reporter = ProgressReporter([recorder], max_rate_hz=20, heartbeat_s=None)
    reporter.advance("fetch")  # delivered at once
    reporter.advance("fetch")  # throttled: must still arrive, by the delivery tick
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if recorder.snapshots and recorder.snapshots[-1].phase("fetch").done == 2:
            break
        time.sleep(0.01)
    assert recorder.snapshots[-1].phase("fetch").done == 2
    reporter.finish()


def test_idle_delivery_thread_ends_and_restarts() -> None:
    recorder = Recorder()
    reporter = ProgressReporter([recorder], heartbeat_s=None)
    reporter.idle_exit_s = 0.1
    reporter.advance("fetch")
    assert reporter.flush()
    deadline = time.monotonic() + 3
    while reporter._thread is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert reporter._thread is None, "an abandoned reporter must not keep a thread forever"
    time.sleep(0.3)
    reporter.advance("fetch")
    assert reporter.flush()
    final = reporter.finish()
    assert recorder.snapshots[-1] is final
    assert [s.phase("fetch").done for s in recorder.snapshots] == [1, 2, 2]


def test_attached_listeners_are_scoped() -> None:
    def one(snapshot: ProgressSnapshot) -> None: ...

    def two(snapshot: ProgressSnapshot) -> None: ...

    assert attached_listeners() == ()
    with progress_listeners(one):
        with progress_listeners(two):
            assert attached_listeners() == (one, two)
        assert attached_listeners() == (one,)
    assert attached_listeners() == ()


def test_listeners_run_in_a_copy_of_the_creators_context() -> None:
    import contextvars

    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")
    seen: list[str] = []
    marker.set("creator")
    reporter = ProgressReporter([lambda snapshot: seen.append(marker.get())])

    def elsewhere() -> None:
        reporter.advance("fetch")

    thread = threading.Thread(target=contextvars.Context().run, args=(elsewhere,))
    thread.start()
    thread.join()
    reporter.finish()
    assert seen
    assert set(seen) == {"creator"}


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (59.4, "59s"), (65, "1m05s"), (3725, "1h02m")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_pipeline_helpers_follow_discovery_pages_and_batches() -> None:
    clock = FakeClock()
    reporter = ProgressReporter(clock=clock)
    record_discovered(reporter, found=100, pending=60, unchanged=40)
    clock.tick(1.0)
    record_batch(reporter, 50, Counts(new=45, rejected=3, failed=2))
    snap = reporter.snapshot()
    assert snap.phase("discover").done == 100
    assert all(snap.phase(p).done == 50 and snap.phase(p).total == 60 for p in ITEM_PHASES)
    assert not snap.phase("store").total_final
    assert snap.fraction is None, "no share while discovery runs (issue #17: 99% at 585 of 3,000)"
    record_discovered(reporter, found=20, pending=20)
    end_discovery(reporter)
    clock.tick(1.0)
    record_batch(reporter, 30, Counts(updated=30))
    snap = reporter.snapshot()
    assert snap.phase("discover").complete
    assert all(snap.phase(p).total == 80 and snap.phase(p).total_final for p in ITEM_PHASES)
    assert snap.fraction == pytest.approx(1.0)
    assert dict(snap.outcomes) == {
        "new": 45,
        "updated": 30,
        "unchanged": 40,
        "skipped": 0,
        "rejected": 3,
        "failed": 2,
        "deleted": 0,
    }


def test_format_rate() -> None:
    assert format_rate(3.14159) == "3.1/s"
    assert format_rate(12345.6) == "12,346/s"


def test_the_domain_module_does_not_import_prefect() -> None:
    import subprocess
    import sys

    from tests.support.paths import REPO_ROOT

    code = "import sys, ingest.progress; sys.exit('prefect' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=False).returncode == 0
