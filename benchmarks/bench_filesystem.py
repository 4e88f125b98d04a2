"""Filesystem ingest throughput and peak memory: the flow against a plain loop.

    python benchmarks/bench_filesystem.py --files 10000

Generates a mixed corpus (benchmarks/corpus.py), then ingests it in separate
processes, side by side in one run:
- `plain loop`: the same domain code (`ingest.pipeline.run_batch`) called in a
  loop, no Prefect;
- `flow`: the `ingest-filesystem` Prefect flow (ephemeral API unless
  PREFECT_API_URL is set; the server start is excluded from files/s, which is
  taken from the flow's own run report);
- `flow, unchanged`: a second flow run over the same corpus and store;
- `flow, 1 changed`: one Markdown file edited, then a third run: it must update that
  file and nothing else (checked on the run report's counts and the number of items
  fetched and processed);
- `flow, 2 workers`: the flow with the CPU work in two processes (peak RSS is the
  flow's process alone).
Each row: files, seconds, files/s, peak RSS of its process and, for flow runs, the
report's new / updated / unchanged counts and the items processed. The incremental
rows' time is compared with the full run's (the target: under 10%).

`--only incremental` runs just the three flow runs over one store (full, unchanged,
one changed), on the default 10,000 files.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def plain_loop(corpus: Path, store_path: Path, batch_size: int) -> dict[str, float]:
    from ingest.pipeline import BatchContext, run_batch
    from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig
    from ingest.store import open_store

    started = time.perf_counter()
    source = FilesystemSource(FilesystemSourceConfig(root=corpus))
    store = open_store(str(store_path))
    job_id = store.begin_job(source.source_id, "bench")
    ctx = BatchContext(source=source, store=store, job_id=job_id, run_id="bench")
    files = 0
    for batch in source.discover(batch_size):
        run_batch(batch, ctx)
        files += len(batch)
    store.close()
    return {"files": files, "seconds": time.perf_counter() - started}


def flow_run(
    corpus: Path, store_path: Path, batch_size: int, concurrency: int, workers: int = 1
) -> dict[str, float]:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    # The ephemeral API's 20 s start-up timeout is too short on a loaded machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    from flows.filesystem import ingest_filesystem
    from flows.params import FolderSource, RunOptions

    state = ingest_filesystem(
        source=FolderSource(path=str(corpus)),
        options=RunOptions(
            store=str(store_path),
            batch_size=batch_size,
            concurrency=concurrency,
            workers=workers,
        ),
        return_state=True,
    )
    report = state.result(raise_on_failure=False)
    if not isinstance(report, dict):
        raise SystemExit(f"the flow run ended {state.type.value} without a report: {report!r}")
    counts = report["counts"]
    phases = report.get("phases") or {}
    return {
        "files": counts["discovered"],
        "seconds": report["duration_s"],
        **{name: counts[name] for name in ("new", "updated", "unchanged", "rejected", "failed")},
        "fetched": phases.get("fetch", {}).get("items", 0),
        "processed": phases.get("process", {}).get("items", 0),
    }


def edit_one_file(corpus: Path) -> Path:
    """Append a paragraph to the first Markdown file (a real one, not a binary file
    behind a text name) and move its mtime on, as an editor would."""
    edited = sorted(corpus.rglob("markdown-*.md"))[0]
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
    if mode == "plain":
        result = plain_loop(corpus, store, args.batch_size)
    else:
        result = flow_run(corpus, store, args.batch_size, args.concurrency, args.workers)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


def _measure(
    mode: str, corpus: Path, store: Path, args: argparse.Namespace, workers: int = 1
) -> dict[str, float]:
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--corpus",
        str(corpus),
        "--store",
        str(store),
        "--batch-size",
        str(args.batch_size),
        "--concurrency",
        str(args.concurrency),
        "--workers",
        str(workers),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return dict(json.loads(line[len("RESULT ") :]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["all", "incremental"], default="all")
    parser.add_argument("--child", choices=["plain", "flow"])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--store", type=Path)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.corpus, args.store, args)
        return

    from benchmarks.corpus import generate_corpus

    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        work = Path(tmp)
        corpus = work / "corpus"
        generate_corpus(corpus, args.files, seed=args.seed)
        rows: dict[str, dict[str, float]] = {}
        if args.only == "all":
            rows["plain loop"] = _measure("plain", corpus, work / "plain.db", args)
        rows["flow"] = _measure("flow", corpus, work / "flow.db", args)
        rows["flow, unchanged"] = _measure("flow", corpus, work / "flow.db", args)
        edited = edit_one_file(corpus)
        rows["flow, 1 changed"] = _measure("flow", corpus, work / "flow.db", args)
        if args.only == "all":
            rows["flow, 2 workers"] = _measure("flow", corpus, work / "flow2.db", args, workers=2)
    _print_table(rows, args)
    full = rows["flow"]["seconds"]
    if "plain loop" in rows:
        print(
            f"flow / plain loop throughput: {_rate(rows['flow']) / _rate(rows['plain loop']):.2f}"
        )
    if "flow, 2 workers" in rows:
        print(
            "flow with 2 workers / flow throughput: "
            f"{_rate(rows['flow, 2 workers']) / _rate(rows['flow']):.2f}"
        )
    problems = check_one_changed(rows["flow, 1 changed"], args.files)
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


def _rate(row: dict[str, float]) -> float:
    return row["files"] / row["seconds"] if row["seconds"] else math.inf


def _print_table(rows: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    print(f"\n{args.files} files, batch size {args.batch_size}, concurrency {args.concurrency}")
    print(
        f"{'mode':<18}{'files':>8}{'seconds':>10}{'files/s':>10}{'peak MB':>10}"
        f"{'new':>7}{'updated':>9}{'unchanged':>11}{'processed':>11}"
    )
    for name, row in rows.items():
        line = (
            f"{name:<18}{row['files']:>8.0f}{row['seconds']:>10.2f}{_rate(row):>10.0f}"
            f"{row['peak_rss_mb']:>10.0f}"
        )
        if "new" in row:
            line += (
                f"{row['new']:>7.0f}{row['updated']:>9.0f}{row['unchanged']:>11.0f}"
                f"{row['processed']:>11.0f}"
            )
        print(line)


if __name__ == "__main__":
    main()
