"""Filesystem ingest throughput and peak memory: the flow against a plain loop.

    python benchmarks/bench_filesystem.py --corpus PATH [--repeats 3]
    python benchmarks/bench_filesystem.py --files 10000 [--repeats 3]
    python benchmarks/bench_filesystem.py --files 100000 --only memory

Ingests a real repository snapshot (`--corpus PATH`; benchmarks/fetch_corpus.py
clones one, and a copy without its hidden folders is measured) or a generated mixed
corpus (benchmarks/corpus.py), in separate processes, side by side in one run:
- `floor`: walk the corpus, read and hash every file: what no ingest can avoid;
- `plain loop`: the same domain code (`ingest.pipeline.run_batch`) called in a
  loop, no Prefect;
- `flow`: the `ingest-filesystem` Prefect flow (ephemeral API unless
  PREFECT_API_URL is set; the server start and a warm-up flow run are excluded:
  seconds come from the flow's own run report);
- `flow, 2 workers`: the flow with `--workers 2` (batches in two processes);
- `flow, defaults`: the flow with no option set, as `ingest fs DIR` runs it (worker
  processes and batch size chosen by the flow);
- `langchain, one process` (with `--langchain`, on `--corpus` only): LangChain's
  loader and splitters over the same corpus's text files in one process, in
  benchmarks/bench_processors.py's virtualenv (imports not counted); compared with
  `flow, defaults` as the time to take in the whole corpus;
- `flow, unchanged`: a second flow run over the same corpus and store;
- `flow, 1 changed`: one Markdown file edited, then a third run: it must update that
  file and nothing else (checked on the run report's counts and the number of items
  fetched and processed).
The three full-run modes run `--repeats` times, interleaved (the order rotates each
round, every run on a fresh store); the table shows medians. Each row: files,
seconds, files/s, the CPU seconds of the measured process and of its child processes
(the ephemeral Prefect server, the worker processes), peak RSS of the measured
process, and for flow runs the report's new / updated / unchanged counts and the
items processed. Ratios are printed from the medians and as the median of the
per-round ratios.

`--only incremental` runs just the three flow runs over one store (full, unchanged,
one changed). `--only memory` runs the flow on a tenth of `--files` and on all of
them, each in its own process, and prints the peak RSS of each and their ratio (the
target: at most 1.5); `--workers N` applies to it. `--keep DIR` generates corpora
into DIR once and reuses them on later runs (a 100,000-file corpus takes a while).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

FLOW_TARGET = 0.9
WORKERS_TARGET = 1.6
MEMORY_TARGET = 1.5
LANGCHAIN_TARGET = 1.6


_OUTCOMES = ("new", "updated", "unchanged", "skipped", "rejected", "failed")


def _cpu_children() -> dict[int, float]:
    """CPU seconds of each live child process (the ephemeral API, pool workers)."""
    import psutil

    cpu: dict[int, float] = {}
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        cpu[child.pid] = times.user + times.system
    return cpu


def _workers_peak_rss_mb() -> float:
    """The largest peak RSS (VmHWM) among live worker processes (not the API server)."""
    import psutil

    peak = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            if "multiprocessing" not in " ".join(child.cmdline()):
                continue
            status = Path(f"/proc/{child.pid}/status").read_text()
        except (psutil.Error, OSError):
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) / 1024)
    return peak


def read_hash_floor(corpus: Path) -> dict[str, float]:
    from ingest.models import content_hash

    started, cpu = time.perf_counter(), time.process_time()
    files = 0
    for folder, dirs, names in os.walk(corpus):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if not name.startswith("."):
                content_hash((Path(folder) / name).read_bytes())
                files += 1
    return {
        "files": files,
        "seconds": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
        "child_cpu_s": 0.0,
    }


def plain_loop(corpus: Path, store_path: Path, batch_size: int) -> dict[str, float]:
    from ingest.pipeline import BatchConfig, BatchContext, run_batch
    from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig
    from ingest.store import open_store

    started, cpu = time.perf_counter(), time.process_time()
    source = FilesystemSource(FilesystemSourceConfig(root=corpus))
    store = open_store(str(store_path))
    job_id = store.begin_job(source.source_id, "bench")
    ctx = BatchContext(
        source=source, store=store, config=BatchConfig(job_id=job_id, run_id="bench")
    )
    files = 0
    for batch in source.discover(batch_size):
        run_batch(batch, ctx)
        files += len(batch)
    store.close()
    return {
        "files": files,
        "seconds": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
        "child_cpu_s": 0.0,
    }


def _run_flow(corpus: Path, store_path: Path, options: dict[str, Any]) -> dict[str, Any]:
    from flows.filesystem import ingest_filesystem
    from flows.params import FolderSource, RunOptions

    state = ingest_filesystem(
        source=FolderSource(path=str(corpus)),
        options=RunOptions(store=str(store_path), **options),
        return_state=True,
    )
    report = state.result(raise_on_failure=False)
    if not isinstance(report, dict):
        raise SystemExit(f"the flow run ended {state.type.value} without a report: {report!r}")
    return report


def flow_run(
    corpus: Path, store_path: Path, batch_size: int | None, concurrency: int, workers: int = 1
) -> dict[str, float]:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    # The ephemeral API's 20 s start-up timeout is too short on a loaded machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    options: dict[str, Any] = {}
    if workers:  # 0: every option at its default, as `ingest fs DIR` runs
        options = {"concurrency": concurrency, "workers": workers}
        if batch_size is not None:
            options["batch_size"] = batch_size
    # A warm-up run on one file starts the API and imports everything, so that the
    # CPU counted below is the measured run's.
    with tempfile.TemporaryDirectory(prefix="ingest-warm-up-") as tmp:
        (Path(tmp) / "corpus").mkdir()
        (Path(tmp) / "corpus" / "a.md").write_text("# Warm-up\n\nOne paragraph.\n")
        _run_flow(Path(tmp) / "corpus", Path(tmp) / "s.db", {"workers": workers or 1})
    children, cpu = _cpu_children(), time.process_time()
    report = _run_flow(corpus, store_path, options)
    cpu = time.process_time() - cpu
    child_cpu = sum(max(0.0, s - children.get(pid, 0.0)) for pid, s in _cpu_children().items())
    counts = report["counts"]
    phases = report.get("phases") or {}
    return {
        "workers_peak_mb": _workers_peak_rss_mb(),
        "files": counts["discovered"],
        "seconds": report["duration_s"],
        "cpu_s": cpu,
        "child_cpu_s": child_cpu,
        **{name: counts[name] for name in _OUTCOMES},
        "fetched": phases.get("fetch", {}).get("items", 0),
        "processed": phases.get("process", {}).get("items", 0),
    }


def edit_one_file(corpus: Path) -> Path:
    """Append a paragraph to the first Markdown file (a real one, not a binary file
    behind a text name) and move its mtime on, as an editor would."""
    markdown = [p for p in sorted(corpus.rglob("*.md")) if p.is_file()]
    edited = next((p for p in markdown if p.name.startswith("markdown-")), markdown[0])
    edited.write_text(edited.read_text(encoding="utf-8") + "\n\nOne more paragraph.\n")
    stat = edited.stat()
    os.utime(edited, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    return edited


def check_one_changed(row: dict[str, float], files: int) -> list[str]:
    """What is wrong with the `one changed` run, if anything."""
    expected = {"new": 0, "updated": 1, "unchanged": files - 1, "failed": 0, "processed": 1}
    return [
        f"{name} {row.get(name)} (expected {value})"
        for name, value in expected.items()
        if row.get(name) != value
    ]


def _child(mode: str, corpus: Path, store: Path, args: argparse.Namespace) -> None:
    if mode == "floor":
        result = read_hash_floor(corpus)
    elif mode == "plain":
        result = plain_loop(corpus, store, args.batch_size or 200)
    else:
        result = flow_run(corpus, store, args.batch_size, args.concurrency, args.workers)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


def _measure(
    mode: str, corpus: Path, store: Path, args: argparse.Namespace, workers: int = 1
) -> dict[str, float]:
    if mode == "langchain":
        return _measure_langchain(corpus, store.parent)
    command = [sys.executable, __file__, "--child", mode, "--corpus", str(corpus)]
    command += ["--store", str(store), "--concurrency", str(args.concurrency)]
    command += ["--workers", str(workers)]
    if args.batch_size is not None:
        command += ["--batch-size", str(args.batch_size)]
    env = dict(os.environ)
    # Batch results persist next to the stores, not in the user's data folder.
    env.setdefault("INGEST_RESULTS_DIR", str(store.parent / "results"))
    done = subprocess.run(command, check=False, capture_output=True, text=True, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"{mode} run failed (exit {done.returncode})")
    return dict(json.loads(lines[-1][len("RESULT ") :]))


def _measure_langchain(corpus: Path, work: Path) -> dict[str, float]:
    from benchmarks import bench_processors

    python = bench_processors.ensure_venv(bench_processors.DEFAULT_VENV)
    list_file = work / "langchain-files.txt"
    if not list_file.exists():
        files = bench_processors.corpus_files(corpus)
        list_file.write_text("".join(f"{path}\n" for path in files), encoding="utf-8")
    result = bench_processors._measure(python, "langchain", corpus, list_file)
    return {key: result[key] for key in ("files", "seconds", "cpu_s", "peak_rss_mb")} | {
        "child_cpu_s": 0.0
    }


def _corpus(work: Path, files: int, seed: int) -> Path:
    """A generated corpus of `files` files under `work`, made once: a marker file
    (hidden, so not ingested) says it is complete."""
    from benchmarks.corpus import generate_corpus

    corpus = work / f"corpus-{files}-{seed}"
    marker = corpus / ".complete"
    if not marker.exists():
        shutil.rmtree(corpus, ignore_errors=True)
        started = time.perf_counter()
        generate_corpus(corpus, files, seed=seed)
        marker.write_text("")
        print(f"generated {files} files in {time.perf_counter() - started:.0f} s", flush=True)
    return corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="default: the flow's own default"
    )
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--only", choices=["all", "throughput", "incremental", "memory"], default="all"
    )
    parser.add_argument("--keep", type=Path, help="generate corpora here once and reuse them")
    parser.add_argument("--child", choices=["floor", "plain", "flow"], help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help="a real repository snapshot to ingest")
    parser.add_argument("--store", type=Path)
    parser.add_argument(
        "--langchain", action="store_true", help="with --corpus: LangChain side by side"
    )
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.corpus, args.store, args)
        return

    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        work = Path(tmp)
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
        corpora = args.keep or work
        if args.only == "memory":
            _memory(work, corpora, args)
            return
        if args.corpus is not None:
            # Edited below, and measured without .git: a copy of the snapshot.
            corpus = work / "corpus"
            shutil.copytree(args.corpus, corpus, ignore=shutil.ignore_patterns(".*"))
            args.files = sum(1 for path in corpus.rglob("*") if path.is_file())
        else:
            corpus = _corpus(corpora, args.files, args.seed)
        if args.keep is not None and args.corpus is None:
            # Edited below: work on a copy, so that the kept corpus stays as generated.
            copy = work / "corpus"
            shutil.copytree(corpus, copy)
            corpus = copy
        _throughput(work, corpus, args)


def _throughput(work: Path, corpus: Path, args: argparse.Namespace) -> None:
    modes = {
        "floor (walk, read, hash)": ("floor", 1),
        "plain loop": ("plain", 1),
        "flow": ("flow", 1),
        "flow, 2 workers": ("flow", 2),
        "flow, defaults": ("flow", 0),
    }
    if args.langchain and args.corpus is not None:
        modes["langchain, one process"] = ("langchain", 1)
    if args.only == "incremental":
        modes = {"flow": ("flow", 1)}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in modes}
    names = list(modes)
    store = work / "none.db"
    for round_ in range(args.repeats):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            mode, workers = modes[name]
            store = work / f"{mode}-{workers}-{round_}.db"
            runs[name].append(_measure(mode, corpus, store, args, workers=workers))
            print(f"round {round_ + 1} {name}: {runs[name][-1]['seconds']:.2f} s", flush=True)
    rows = {name: _median(values) for name, values in runs.items()}
    problems: list[str] = []
    edited: Path | None = None
    if args.only in ("all", "incremental"):
        store = work / f"flow-1-{args.repeats - 1}.db"
        rows["flow, unchanged"] = _measure("flow", corpus, store, args)
        edited = edit_one_file(corpus)
        rows["flow, 1 changed"] = _measure("flow", corpus, store, args)
        problems = check_one_changed(rows["flow, 1 changed"], args.files)
    _print_table(rows, args)
    if "plain loop" in runs:
        _ratio("flow / plain loop throughput", runs["flow"], runs["plain loop"], FLOW_TARGET)
        floor = statistics.median(run["cpu_s"] for run in runs["floor (walk, read, hash)"])
        plain = statistics.median(run["cpu_s"] for run in runs["plain loop"])
        print(f"plain loop CPU / read+hash floor CPU: {plain / floor:.0f}x" if floor else "")
    if "flow, 2 workers" in runs:
        _ratio(
            "flow, 2 workers / flow throughput",
            runs["flow, 2 workers"],
            runs["flow"],
            WORKERS_TARGET,
        )
        _ratio(
            "flow, 2 workers / plain loop throughput",
            runs["flow, 2 workers"],
            runs["plain loop"],
            None,
        )
    if "langchain, one process" in runs:
        _corpus_time_ratio(runs["flow, defaults"], runs["langchain, one process"])
    if edited is None:
        return
    full = rows["flow"]["seconds"]
    for name in ("flow, unchanged", "flow, 1 changed"):
        share = rows[name]["seconds"] / full
        verdict = "under" if share < 0.10 else "NOT under"
        print(f"{name} / full run time: {share:.3f} ({verdict} the 10% target)")
    changed = rows["flow, 1 changed"]
    print(
        f"1 changed ({edited.relative_to(corpus)}): new {changed['new']:.0f}, "
        f"updated {changed['updated']:.0f}, unchanged {changed['unchanged']:.0f}, "
        f"fetched {changed['fetched']:.0f}, processed {changed['processed']:.0f}: "
        + ("only the changed file was reprocessed" if not problems else "; ".join(problems))
    )
    if problems:
        raise SystemExit(1)


def _corpus_time_ratio(ours: list[dict[str, float]], theirs: list[dict[str, float]]) -> None:
    """How many times faster the default flow takes in the corpus than LangChain takes
    in its text files (the binary files it never reads are in our count, not theirs)."""
    of_medians = _median(theirs)["seconds"] / _median(ours)["seconds"]
    pairs = zip(ours, theirs, strict=True)
    per_round = statistics.median(t["seconds"] / o["seconds"] for o, t in pairs)
    verdict = "meets" if min(of_medians, per_round) >= LANGCHAIN_TARGET else "below"
    print(
        f"flow, defaults vs LangChain, one process (corpus time): {of_medians:.2f}x "
        f"(medians), {per_round:.2f}x (median of rounds) [target {LANGCHAIN_TARGET}: {verdict}]"
    )


def _memory(work: Path, corpora: Path, args: argparse.Namespace) -> None:
    """Peak RSS of the flow at a tenth of the files and at all of them."""
    rows: dict[str, dict[str, float]] = {}
    sizes = [max(1, args.files // 10), args.files]
    for files in sizes:
        corpus = _corpus(corpora, files, args.seed)
        name = f"flow, {files} files" + (f", {args.workers} workers" if args.workers > 1 else "")
        rows[name] = _measure("flow", corpus, work / f"memory-{files}.db", args, args.workers)
        print(f"{name}: {rows[name]['seconds']:.2f} s", flush=True)
    _print_table(rows, args)
    small, large = rows.values()
    ratio = large["peak_rss_mb"] / small["peak_rss_mb"]
    verdict = "within" if ratio <= MEMORY_TARGET else "NOT within"
    print(
        f"peak RSS at {sizes[1]} / at {sizes[0]} files: {large['peak_rss_mb']:.0f} / "
        f"{small['peak_rss_mb']:.0f} MB = {ratio:.2f} ({verdict} the {MEMORY_TARGET}x target)"
    )


def _rate(row: dict[str, float]) -> float:
    return row["files"] / row["seconds"] if row["seconds"] else math.inf


def _median(values: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(v[key] for v in values) for key in values[0]}


def _ratio(
    label: str,
    top: list[dict[str, float]],
    bottom: list[dict[str, float]],
    target: float | None,
) -> None:
    of_medians = _rate(_median(top)) / _rate(_median(bottom))
    per_round = statistics.median(_rate(t) / _rate(b) for t, b in zip(top, bottom, strict=True))
    cpu = _median(bottom)["cpu_s"] / _median(top)["cpu_s"]
    line = (
        f"{label}: {of_medians:.2f} (medians), {per_round:.2f} (median of rounds); "
        f"measured process's CPU, inverse ratio: {cpu:.2f}"
    )
    if target is not None:
        verdict = "meets" if min(of_medians, per_round) >= target else "below"
        line += f" [target {target}: {verdict}]"
    print(line)


def _print_table(rows: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    batch = args.batch_size or "default"
    where = f" of {args.corpus}" if args.corpus is not None else ""
    print(
        f"\n{args.files} files{where}, batch size {batch}, concurrency {args.concurrency}, "
        f"{args.repeats} round(s): medians"
    )
    print(
        f"{'mode':<30}{'files':>7}{'seconds':>9}{'files/s':>9}{'cpu s':>8}{'child cpu':>10}"
        f"{'peak MB':>9}{'worker MB':>10}{'new':>7}{'updated':>9}{'unchanged':>11}{'processed':>11}"
    )
    for name, row in rows.items():
        line = (
            f"{name:<30}{row['files']:>7.0f}{row['seconds']:>9.2f}{_rate(row):>9.0f}"
            f"{row['cpu_s']:>8.1f}{row['child_cpu_s']:>10.1f}{row['peak_rss_mb']:>9.0f}"
            f"{row.get('workers_peak_mb') or 0:>10.0f}"
        )
        if "new" in row:
            line += (
                f"{row['new']:>7.0f}{row['updated']:>9.0f}{row['unchanged']:>11.0f}"
                f"{row['processed']:>11.0f}"
            )
        print(line)


if __name__ == "__main__":
    main()
