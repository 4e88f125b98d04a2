"""`ingest export` and `ingest check`: the store, without Prefect."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ingest.store import open_store

from .app import ExitCode, app, err_console
from .options import StoreOption
from .output_paths import check_store_to_read


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    parquet = "parquet"


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="jsonl or parquet.")] = (
        ExportFormat.jsonl
    ),
    include_deleted: Annotated[
        bool, typer.Option("--include-deleted", help="Also export tombstoned documents.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Export the store's documents, one record per document."""
    from ingest.store.export import export_jsonl, export_parquet

    writer = export_jsonl if fmt is ExportFormat.jsonl else export_parquet
    check_store_to_read(store)
    with open_store(store) as opened:
        count = writer(opened, out, include_deleted=include_deleted)
    err_console.print(f"exported {count} document(s) to {out}")


@app.command("check")
def check(store: StoreOption = None) -> None:
    """Verify the store's integrity; exit 1 when a problem is found."""
    check_store_to_read(store)
    with open_store(store) as opened:
        problems = opened.check()
    for problem in problems:
        err_console.print(f"[red]{problem.code}[/]: {problem.message}")
    if problems:
        raise typer.Exit(ExitCode.ITEMS_FAILED)
    err_console.print("store is consistent")
