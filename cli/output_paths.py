"""Where a run will write its SQLite store, checked before any work: a path that
cannot be written is one line and exit 2, not a run that fails half-way."""

from __future__ import annotations

import os
from pathlib import Path

from ingest.errors import ConfigurationError


def unwritable_reason(path: Path) -> str | None:
    """Why `path` cannot be created or written, or None when it looks writable (nothing
    is created to find out)."""
    if path.is_dir():
        return "it is a folder"
    if path.exists():
        return None if os.access(path, os.W_OK) else "permission denied"
    for ancestor in path.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                return f"{ancestor} is a file, not a folder"
            if not os.access(ancestor, os.W_OK | os.X_OK):
                return f"{ancestor} is not writable"
            return None
    return None


def check_store_location(store: str | None) -> None:
    """A SQLite store this process will write must be writable (a server store is the
    server's business)."""
    from ingest.store import parse_store_url

    path = parse_store_url(store).sqlite_path
    if path is not None and (reason := unwritable_reason(path.expanduser())):
        raise ConfigurationError(f"cannot write the store {path}: {reason}")


def check_store_to_read(store: str | None) -> None:
    """A SQLite store a command only reads must exist: `export` and `check` never create
    an empty store to report on."""
    from ingest.store import parse_store_url

    check_store_location(store)
    path = parse_store_url(store).sqlite_path
    if path is not None and not path.expanduser().exists():
        raise ConfigurationError(
            f"no store at {path}: nothing was ingested there yet "
            "(run `ingest fs` or `ingest web` first, or give --store)"
        )
