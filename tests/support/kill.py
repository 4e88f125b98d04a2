"""Killing a run at a chosen point of its progress, read from its store as it writes."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path


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


def job_left_open(store: Path) -> bool:
    """True when the killed run left its job unfinished (a resumable run)."""
    try:
        with sqlite3.connect(store) as db:
            query = "SELECT count(*) FROM jobs WHERE finished_at IS NULL"
            (open_jobs,) = db.execute(query).fetchone()
    except sqlite3.Error:  # killed before the store was set up
        return False
    return bool(open_jobs)
