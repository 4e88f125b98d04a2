"""What progress reporting costs: the same folder ingest with every progress listener
attached against the same ingest with no reporter at all.

    python benchmarks/bench_progress.py --files 3000 --repeats 5 [--mode loop|flow|both]

Generates a mixed corpus (benchmarks/corpus.py) and, in one process, side by side:
- `loop` mode: the batches through `ingest.pipeline.run_batch` one after another,
  inside a Prefect flow run (so the Prefect progress artifact is real): `off` has no
  reporter (the pipeline's stage hooks do nothing), `on` has a `ProgressReporter`
  active with the Prefect artifact listener, the CLI's plain-lines listener (every
  snapshot written, to /dev/null) and a callback, fed as the flow feeds it
  (discovery pages, batch stages, batch results) and finished at the end;
- `flow` mode: the real `ingest-filesystem` flow; `off` swaps its reporter for one
  with no listeners that is never active, `on` is the flow as the CLI runs it (its
  Prefect artifact listener plus the plain-lines listener and a callback).
Variants alternate (off/on, then on/off, ...) on fresh stores; the table shows the
median seconds of each and the overhead of `on` in percent, both from the medians
and as the median of the per-repeat ratios. Then micro-measures: the cost of one
reporter update, of one batch's hooks, of one delivery to the listeners, and the
overhead those imply for the measured run. The target: under 2%.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
# The ephemeral API's 20 s start-up timeout is too short on a loaded machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

TARGET_PERCENT = 2.0
ARTIFACT_KEY = "bench-progress"


class _Sink:
    """The programmatic caller's callback: keeps the latest snapshot as plain data."""

    def __init__(self) -> None:
        self.calls = 0
        self.last: dict[str, Any] | None = None
        self.listener_cpu_s = 0.0

    def __call__(self, snapshot: Any) -> None:
        self.calls += 1
        self.last = snapshot.as_dict()


class _Metered:
    """A listener whose calls' CPU time (on the reporter's delivery thread) is added up."""

    def __init__(self, listener: Callable[[Any], None], sink: _Sink) -> None:
        self.listener = listener
        self.sink = sink

    def __call__(self, snapshot: Any) -> None:
        started = time.thread_time()
        try:
            self.listener(snapshot)
        finally:
            self.sink.listener_cpu_s += time.thread_time() - started


def _listeners(devnull: Any, prefect: bool) -> tuple[list[Any], _Sink]:
    from cli.progress import PlainProgressListener
    from flows.adapters.artifacts import PrefectProgressListener

    sink = _Sink()
    listeners: list[Any] = [PlainProgressListener(devnull, interval_s=0.0), sink]
    if prefect:
        listeners.insert(0, PrefectProgressListener(ARTIFACT_KEY))
    return [_Metered(listener, sink) for listener in listeners], sink


# -- loop mode -------------------------------------------------------------------


def _loop_once(
    corpus: Path, store_path: Path, batch_size: int, listeners: list[Any] | None
) -> tuple[float, float]:
    """Wall and CPU seconds of this process (the listener thread included)."""
    from ingest.pipeline import BatchConfig, BatchContext, run_batch
    from ingest.progress import (
        ProgressReporter,
        end_discovery,
        record_batch,
        record_discovered,
    )
    from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig
    from ingest.store import open_store

    source = FilesystemSource(FilesystemSourceConfig(root=corpus))
    store = open_store(str(store_path))
    ctx = BatchContext(
        source=source,
        store=store,
        config=BatchConfig(job_id=store.begin_job(source.source_id, "bench"), run_id="bench"),
    )
    started, cpu_started = time.perf_counter(), time.process_time()
    reporter = None if listeners is None else ProgressReporter(listeners)
    with reporter if reporter is not None else nullcontext():
        for batch in source.discover(batch_size):
            if reporter is not None:
                record_discovered(reporter, len(batch), len(batch))
            result = run_batch(batch, ctx)
            if reporter is not None:
                record_batch(reporter, batch, result.counts)
        if reporter is not None:
            end_discovery(reporter)
    # leaving the reporter delivered the final snapshot and joined its thread: counted
    elapsed = time.perf_counter() - started, time.process_time() - cpu_started
    store.close()
    return elapsed


def _loop_mode(corpus: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from prefect import flow

    @flow(name="bench-progress", persist_result=False)
    def bench_progress_loop() -> dict[str, Any]:
        with open(os.devnull, "w") as devnull:
            _loop_once(corpus, work / "warmup.db", args.batch_size, None)
            times: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
            deliveries: list[int] = []
            listener_cpu: list[float] = []
            for repeat in range(args.repeats):
                for variant in ("off", "on") if repeat % 2 == 0 else ("on", "off"):
                    store = work / f"loop-{variant}-{repeat}.db"
                    if variant == "off":
                        times["off"].append(_loop_once(corpus, store, args.batch_size, None))
                    else:
                        listeners, sink = _listeners(devnull, prefect=True)
                        times["on"].append(_loop_once(corpus, store, args.batch_size, listeners))
                        deliveries.append(sink.calls)
                        listener_cpu.append(sink.listener_cpu_s)
            micro = _micro(devnull, times)
        return {
            "times": times,
            "deliveries": deliveries,
            "listener_cpu": listener_cpu,
            "micro": micro,
        }

    result: dict[str, Any] = bench_progress_loop()
    return result


# -- flow mode -------------------------------------------------------------------


@contextmanager
def _reporting_off() -> Iterator[None]:
    """The flow with a reporter that has no listeners and is never active."""
    import flows.run
    from ingest.progress import ProgressReporter

    class SilentReporter(ProgressReporter):
        def __init__(self, listeners: Any = (), **kwargs: Any) -> None:
            super().__init__((), **kwargs)

        def __enter__(self) -> SilentReporter:
            return self  # not active: the batches' stage hooks do nothing

    def no_artifact(key: str, **kwargs: Any) -> Callable[[Any], None]:
        return lambda snapshot: None

    with (
        mock.patch.object(flows.run, "ProgressReporter", SilentReporter),
        mock.patch.object(flows.run, "PrefectProgressListener", no_artifact),
    ):
        yield


def _flow_once(
    corpus: Path, store: Path, args: argparse.Namespace, on: bool, devnull: Any
) -> tuple[float, float]:
    from flows.filesystem import ingest_filesystem
    from flows.params import FolderSource, RunOptions
    from ingest.progress import progress_listeners

    listeners, _ = _listeners(devnull, prefect=False)
    scope: AbstractContextManager[None] = progress_listeners(*listeners) if on else _reporting_off()
    started, cpu_started = time.perf_counter(), time.process_time()
    with scope:
        state = ingest_filesystem(
            source=FolderSource(path=str(corpus)),
            options=RunOptions(
                store=str(store), batch_size=args.batch_size, concurrency=args.concurrency
            ),
            return_state=True,
        )
    elapsed = time.perf_counter() - started, time.process_time() - cpu_started
    report = state.result(raise_on_failure=False)
    if not isinstance(report, dict) or report["counts"]["discovered"] != args.files:
        raise SystemExit(f"the flow run did not ingest the corpus: {report!r}")
    return elapsed


def _flow_mode(corpus: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    os.environ["INGEST_RESULTS_DIR"] = str(work / "results")
    times: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
    with open(os.devnull, "w") as devnull:
        _flow_once(corpus, work / "flow-warmup.db", args, False, devnull)
        for repeat in range(args.repeats):
            for variant in ("off", "on") if repeat % 2 == 0 else ("on", "off"):
                store = work / f"flow-{variant}-{repeat}.db"
                times[variant].append(_flow_once(corpus, store, args, variant == "on", devnull))
    return {"times": times}


# -- micro-measures --------------------------------------------------------------


def _per_call(action: Callable[[], None], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        action()
    return (time.perf_counter() - started) / count


def _micro(devnull: Any, times: dict[str, list[tuple[float, float]]]) -> dict[str, float]:
    """Seconds per operation; call inside a flow run (the artifact listener is real)."""
    from cli.progress import PlainProgressListener
    from flows.adapters.artifacts import PrefectProgressListener
    from ingest.models import Counts, SourceItem
    from ingest.progress import ProgressReporter, batch_progress, record_batch

    listeners, _ = _listeners(devnull, prefect=False)
    reporter = ProgressReporter(listeners)
    reporter.set_total("process", 10**9)
    advance = _per_call(lambda: reporter.advance("process"), 100_000)

    items = [SourceItem(source_id="s", uri=f"file:///bench/{i}") for i in range(200)]
    batches = iter(range(10**9))

    def one_batch() -> None:  # what run_batch and the flow do for one batch
        batch = [SourceItem(source_id="s", uri=f"file:///b{next(batches)}"), *items[1:]]
        progress = batch_progress(batch)
        progress.passed(len(batch), "fetch")
        progress.passed(len(batch), "validate", "process")
        progress.passed(len(batch), "store")
        record_batch(reporter, batch, Counts(new=len(batch)))

    with reporter:
        batch_hooks = _per_call(one_batch, 5_000)
    plain = PlainProgressListener(devnull, interval_s=0.0)
    snapshot = reporter.snapshot()
    delivery = _per_call(lambda: plain(reporter.snapshot()), 2_000)
    artifact = PrefectProgressListener(ARTIFACT_KEY + "-micro", min_interval_s=0.0)
    artifact_update = _per_call(lambda: artifact(snapshot), 10) if artifact.artifact_id else 0.0
    reporter.finish()

    run_s = statistics.median(wall for wall, _ in times["on"])
    batches_per_run = -(-ARGS.files // ARGS.batch_size)
    # per run: the hooks of every batch, a snapshot and plain line at most 4 times a
    # second (plus the heartbeat), an artifact update at most every 2 s
    implied = batches_per_run * batch_hooks + run_s * (4 * delivery + 0.5 * artifact_update)
    return {
        "advance_s": advance,
        "batch_hooks_s": batch_hooks,
        "delivery_s": delivery,
        "artifact_update_s": artifact_update,
        "implied_percent": 100 * implied / run_s,
    }


# -- report ----------------------------------------------------------------------


def _print_table(name: str, times: dict[str, list[tuple[float, float]]]) -> None:
    """The side-by-side table of one mode and the overhead of `on` in percent."""
    print(f"\n{name}: {ARGS.files} files, batch size {ARGS.batch_size}, {ARGS.repeats} repeats")
    print(
        f"{'variant':<26}{'wall med s':>11}{'wall min s':>11}{'CPU med s':>11}{'CPU min s':>11}"
        f"{'files/s':>9}"
    )
    labels = {"off": "no reporter", "on": "reporter + 3 listeners"}
    for variant in ("off", "on"):
        walls = [wall for wall, _ in times[variant]]
        cpus = [cpu for _, cpu in times[variant]]
        print(
            f"{labels[variant]:<26}{statistics.median(walls):>11.3f}{min(walls):>11.3f}"
            f"{statistics.median(cpus):>11.3f}{min(cpus):>11.3f}"
            f"{ARGS.files / statistics.median(walls):>9.0f}"
        )
    for index, what in enumerate(("wall", "CPU")):
        off = [pair[index] for pair in times["off"]]
        on = [pair[index] for pair in times["on"]]
        medians = 100 * (statistics.median(on) / statistics.median(off) - 1)
        mins = 100 * (min(on) / min(off) - 1)
        paired = 100 * (statistics.median(b / a for a, b in zip(off, on, strict=True)) - 1)
        print(
            f"overhead of progress, {what} time: {medians:+.2f}% (medians), "
            f"{mins:+.2f}% (minimums), {paired:+.2f}% (median of paired ratios)"
        )


def _print_direct(loop: dict[str, Any]) -> float:
    """The cost measured directly in the `on` runs: the listeners' CPU time on the
    delivery thread plus every batch's hooks, against the run's CPU time. Other
    processes disturb this far less than the side-by-side difference."""
    run_cpu = statistics.median(cpu for _, cpu in loop["times"]["on"])
    listener_cpu = statistics.median(loop["listener_cpu"])
    batches = -(-ARGS.files // ARGS.batch_size)
    hooks_cpu = batches * loop["micro"]["batch_hooks_s"]
    percent: float = 100 * (listener_cpu + hooks_cpu) / run_cpu
    print(
        f"measured in the runs: {statistics.median(loop['deliveries']):.0f} deliveries, "
        f"listeners {listener_cpu * 1e3:.1f} ms CPU, batch hooks {hooks_cpu * 1e3:.2f} ms, "
        f"of {run_cpu:.2f} s CPU per run: {percent:.2f}%"
    )
    return percent


def _print_micro(micro: dict[str, float]) -> None:
    print("\nper-update costs")
    print(f"{'operation':<58}{'µs':>10}")
    rows = [
        ("reporter.advance (3 listeners attached)", micro["advance_s"]),
        ("one batch's hooks: 3 stage reports + record_batch", micro["batch_hooks_s"]),
        ("one delivery: snapshot + plain line (listener thread)", micro["delivery_s"]),
        ("one Prefect progress artifact update (listener thread)", micro["artifact_update_s"]),
    ]
    for label, seconds in rows:
        print(f"{label:<58}{seconds * 1e6:>10.1f}")
    print(f"overhead these imply for the measured run: {micro['implied_percent']:.3f}%")


ARGS = argparse.Namespace()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mode", choices=["loop", "flow", "both"], default="loop")
    parser.parse_args(namespace=ARGS)

    from benchmarks.corpus import generate_corpus

    verdicts: list[float] = []
    with tempfile.TemporaryDirectory(prefix="ingest-bench-progress-") as tmp:
        work = Path(tmp)
        corpus = work / "corpus"
        generate_corpus(corpus, ARGS.files, seed=ARGS.seed)
        if ARGS.mode in ("loop", "both"):
            loop = _loop_mode(corpus, work, ARGS)
            _print_table("run_batch loop in a flow run", loop["times"])
            verdicts.append(_print_direct(loop))
            _print_micro(loop["micro"])
        if ARGS.mode in ("flow", "both"):
            flow = _flow_mode(corpus, work, ARGS)
            _print_table("ingest-filesystem flow", flow["times"])
    if not verdicts:
        return 0
    worst = max(verdicts)
    verdict = "under" if worst < TARGET_PERCENT else "NOT under"
    print(
        f"\nprogress reporting costs {worst:.2f}% of the run's CPU time (measured in the runs "
        f"with listeners): {verdict} the {TARGET_PERCENT:.0f}% target"
    )
    return 0 if worst < TARGET_PERCENT else 1


if __name__ == "__main__":
    sys.exit(main())
