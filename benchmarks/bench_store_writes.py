"""The store write of batches with many chunks, in CPU time per batch and per chunk, on
SQLite and (with `--postgres URL`) PostgreSQL.

    python benchmarks/bench_store_writes.py --corpus PATH [--files 1000] [--batch 500]
        [--rounds 5] [--postgres postgresql+psycopg://...]

The documents are those our processors make of the corpus's Markdown and Python files
(`--corpus`, e.g. a snapshot cloned by benchmarks/fetch_corpus.py; without it a
generated corpus), made once before timing. Each round writes every batch as new
documents into an empty store and then again as updates (chunks replaced), backends
interleaved; the table shows medians of `time.process_time()` (this process's CPU, so
the database server's own work on PostgreSQL is not in it) and of wall time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def make_writes(corpus: Path, limit: int) -> list[Any]:
    from ingest.content_types import guess_content_type
    from ingest.models import Outcome, SourceItem, content_hash
    from ingest.pipeline import _decode
    from ingest.processors import ChunkPolicy, processor_for, processor_id
    from ingest.store import ItemWrite

    files = sorted(p for p in corpus.rglob("*") if p.suffix in {".md", ".py"} and p.is_file())
    writes = []
    for path in files[:limit]:
        data = path.read_bytes()
        relative = path.relative_to(corpus).as_posix()
        item = SourceItem(
            source_id="bench",
            uri=path.as_uri(),
            size=len(data),
            path=relative,
            content_type=guess_content_type(relative),
            fingerprint=f"{len(data)}",
        )
        content = _decode(item, data, content_hash(data))
        if content.text is None:
            continue
        processor = processor_for(content.content_type)
        try:
            document = processor.process(content, ChunkPolicy())
        except Exception:  # noqa: BLE001, S112 - a file our processors reject is not written
            continue
        writes.append(
            ItemWrite(
                uri=item.uri,
                outcome=Outcome.NEW,
                fingerprint=item.fingerprint,
                content_hash=content.content_hash,
                document=document,
                processor=processor_id(processor),
            )
        )
    return writes


def write_all(url: str, batches: list[list[Any]]) -> tuple[float, float]:
    """CPU and wall seconds of writing every batch as new, then every batch again."""
    from ingest.models import Outcome
    from ingest.store import open_store

    updated = [[w.model_copy(update={"outcome": Outcome.UPDATED}) for w in b] for b in batches]
    with open_store(url) as store:
        job = store.begin_job("bench", "k")
        cpu, wall = time.process_time(), time.perf_counter()
        for batch in [*batches, *updated]:
            store.write_batch("bench", job, "run", batch)
        return time.process_time() - cpu, time.perf_counter() - wall


def _fresh_postgres(base: str) -> tuple[str, Any]:
    import uuid

    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.pool import NullPool

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    url = make_url(base)
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", help="a PostgreSQL URL to measure beside SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        corpus = args.corpus
        if corpus is None:
            from benchmarks.corpus import generate_corpus

            corpus = Path(scratch) / "corpus"
            generate_corpus(corpus, args.files)
        writes = make_writes(corpus, args.files)
        chunks = sum(len(w.document.chunks) for w in writes)
        batches = [writes[i : i + args.batch] for i in range(0, len(writes), args.batch)]
        backends = ["sqlite", *(["postgresql"] if args.postgres else [])]
        timings: dict[str, list[tuple[float, float]]] = {name: [] for name in backends}
        for round_no in range(args.rounds):
            for name in backends if round_no % 2 == 0 else backends[::-1]:
                if name == "sqlite":
                    url, drop = str(Path(scratch) / f"store-{round_no}.db"), None
                else:
                    url, drop = _fresh_postgres(args.postgres)
                try:
                    timings[name].append(write_all(url, batches))
                finally:
                    if drop is not None:
                        drop()
    written = 2 * len(batches)
    print(f"{len(writes)} documents, {chunks} chunks, {written} batch writes of <= {args.batch}")
    print(f"{'backend':<12}{'CPU s':>8}{'wall s':>8}{'CPU ms/batch':>14}{'CPU us/chunk':>14}")
    for name, runs in timings.items():
        cpu = statistics.median(r[0] for r in runs)
        wall = statistics.median(r[1] for r in runs)
        per_batch = cpu / written * 1000
        per_chunk = cpu / (2 * chunks) * 1e6
        print(f"{name:<12}{cpu:>8.3f}{wall:>8.3f}{per_batch:>14.1f}{per_chunk:>14.1f}")


if __name__ == "__main__":
    main()
