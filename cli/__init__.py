"""The `ingest` command line: typer commands over the flows and the store.

Commands import Prefect only when they run a flow, so `ingest export` and
`ingest check` start fast.
"""

from __future__ import annotations

from .app import app, main

__all__ = ["app", "main"]
