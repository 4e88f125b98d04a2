"""Killing a run at a chosen point of its progress, read from its store as it writes, and
what the store holds afterwards, to compare with the store of a clean run."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any


def stored_items(store: Path) -> int:
    """Items the store has recorded so far (0 before the schema exists)."""
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1) as db:
            (count,) = db.execute("SELECT count(*) FROM items").fetchone()
            return int(count)
    except sqlite3.Error:
        return 0


def kill_at(victim: subprocess.Popen[str], store: Path, items: int, timeout: float = 120) -> bool:
    """SIGKILL `victim` once its store holds at least `items` items; True when it was
    still running then (False: it had finished first)."""
    deadline = time.monotonic() + timeout
    while victim.poll() is None and time.monotonic() < deadline:
        if stored_items(store) >= items:
            victim.send_signal(signal.SIGKILL)
            return True
        time.sleep(0.02)
    return False


def store_snapshot(store: Path) -> dict[str, Any]:
    """Every document of the store (the deleted included) by URI, with its content hash,
    title, deletion mark and chunks; asserts that the store checks clean and holds no
    document twice."""
    from ingest.store import open_store

    with open_store(str(store)) as opened:
        assert opened.check() == []
        records = list(opened.iter_export(include_deleted=True))
    uris = [record.uri for record in records]
    assert len(uris) == len(set(uris)), "a document is stored twice"
    return {
        record.uri: (
            record.content_hash,
            record.title,
            record.deleted,
            [(chunk.seq, chunk.text, chunk.metadata.get("chunk_id")) for chunk in record.chunks],
        )
        for record in records
    }


def job_left_open(store: Path) -> bool:
    """True when the killed run left its job unfinished (a resumable run)."""
    try:
        with sqlite3.connect(store) as db:
            query = "SELECT count(*) FROM jobs WHERE finished_at IS NULL"
            (open_jobs,) = db.execute(query).fetchone()
    except sqlite3.Error:  # killed before the store was set up
        return False
    return bool(open_jobs)
