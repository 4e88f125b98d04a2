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
- `flow, 2 workers`: the flow with the CPU work in two processes (peak RSS is the
  flow's process alone).
Each row: files, seconds, files/s, peak RSS of its process.
"""

from __future__ import annotations

import argparse
import json
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
    counts = report["counts"]
    return {"files": counts["discovered"], "seconds": report["duration_s"]}


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
        rows = [
            ("plain loop", _measure("plain", corpus, work / "plain.db", args)),
            ("flow", _measure("flow", corpus, work / "flow.db", args)),
            ("flow, unchanged", _measure("flow", corpus, work / "flow.db", args)),
            ("flow, 2 workers", _measure("flow", corpus, work / "flow2.db", args, workers=2)),
        ]
    print(f"\n{args.files} files, batch size {args.batch_size}, concurrency {args.concurrency}")
    print(f"{'mode':<18}{'files':>8}{'seconds':>10}{'files/s':>10}{'peak MB':>10}")
    for name, row in rows:
        rate = row["files"] / row["seconds"] if row["seconds"] else float("inf")
        print(
            f"{name:<18}{row['files']:>8.0f}{row['seconds']:>10.2f}{rate:>10.0f}"
            f"{row['peak_rss_mb']:>10.0f}"
        )
    base = rows[0][1]["files"] / rows[0][1]["seconds"]
    flow = rows[1][1]["files"] / rows[1][1]["seconds"]
    two = rows[3][1]["files"] / rows[3][1]["seconds"]
    print(f"flow / plain loop throughput: {flow / base:.2f}")
    print(f"flow with 2 workers / flow throughput: {two / flow:.2f}")
    print(f"unchanged re-run / full run time: {rows[2][1]['seconds'] / rows[1][1]['seconds']:.2f}")


if __name__ == "__main__":
    main()
