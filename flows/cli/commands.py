"""`ingest fs`, `ingest export` and `ingest check`."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ingest.errors import ConfigurationError, ItemsFailedError
from ingest.models import RunReport
from ingest.store import open_store

from .app import ExitCode, app, err_console, fail_usage
from .options import parse_schema_mappings, parse_size
from .quiet import quiet_prefect

StoreOption = Annotated[
    str | None,
    typer.Option("--store", envvar="INGEST_STORE", help="Store URL or SQLite file path."),
]


@app.command("fs")
def ingest_folder(
    path: Annotated[Path, typer.Argument(help="The folder to ingest.")],
    include: Annotated[
        list[str] | None, typer.Option("--include", help="Only files matching this glob.")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Skip files matching this glob.")
    ] = None,
    no_gitignore: Annotated[
        bool, typer.Option("--no-gitignore", help="Do not honour .gitignore files.")
    ] = False,
    hidden: Annotated[bool, typer.Option("--hidden", help="Include hidden files.")] = False,
    max_file_size: Annotated[
        str, typer.Option("--max-file-size", help="Reject larger files (e.g. 10MB).")
    ] = "10MiB",
    batch_size: Annotated[int, typer.Option("--batch-size", help="Items per batch task.")] = 200,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Batches in flight at once.")
    ] = 2,
    full: Annotated[
        bool, typer.Option("--full", help="Reprocess everything, ignoring fingerprints.")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Treat validation warnings as errors.")
    ] = False,
    schema: Annotated[
        list[str] | None,
        typer.Option("--schema", help="GLOB=SCHEMA_FILE: validate matching JSON files."),
    ] = None,
    store: StoreOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run report as JSON on stdout.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect logs.")] = False,
) -> None:
    """Ingest a folder through the `ingest-filesystem` flow."""
    source, options = _folder_parameters(
        path,
        include,
        exclude,
        no_gitignore,
        hidden,
        max_file_size,
        batch_size,
        concurrency,
        full,
        strict,
        schema,
        store,
    )
    quiet_prefect(verbose)
    from flows.filesystem import ingest_filesystem

    state = ingest_filesystem(source=source, options=options, return_state=True)
    report = _report_of(state)
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        print_report(report, Console())
    raise typer.Exit(ExitCode.ITEMS_FAILED if report.counts.failed else ExitCode.OK)


def _folder_parameters(
    path: Path,
    include: list[str] | None,
    exclude: list[str] | None,
    no_gitignore: bool,
    hidden: bool,
    max_file_size: str,
    batch_size: int,
    concurrency: int,
    full: bool,
    strict: bool,
    schema: list[str] | None,
    store: str | None,
) -> tuple[Any, Any]:
    from pydantic import ValidationError

    from flows.params import FolderSource, RunOptions
    from ingest.store import parse_store_url
    from ingest.validators import ValidationPolicy, check_policy

    if not path.exists():
        raise fail_usage(f"{path}: no such folder")
    if not path.is_dir():
        raise fail_usage(f"{path}: not a folder")
    try:
        parse_store_url(store)
        source = FolderSource(
            path=str(path.resolve()),
            include=include or [],
            exclude=exclude or [],
            gitignore=not no_gitignore,
            hidden=hidden,
            max_file_size=parse_size(max_file_size),
        )
        options = RunOptions(
            store=store,
            batch_size=batch_size,
            concurrency=concurrency,
            full=full,
            validation=ValidationPolicy(strict=strict, schemas=parse_schema_mappings(schema or [])),
        )
        check_policy(options.validation)
    except ConfigurationError as exc:
        raise fail_usage(str(exc)) from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise fail_usage(problems) from exc
    return source, options


def _report_of(state: Any) -> RunReport:
    data = state.result(raise_on_failure=False)
    if isinstance(data, dict):
        return RunReport.model_validate(data)
    if isinstance(data, ItemsFailedError):
        return RunReport.model_validate(data.report)
    if isinstance(data, BaseException):
        raise data
    raise ConfigurationError(f"the flow run ended {state.type.value} without a report")


def print_report(report: RunReport, console: Console) -> None:
    table = Table(title=f"{report.flow} {report.state} in {report.duration_s:.1f}s")
    table.add_column("outcome")
    table.add_column("items", justify="right")
    for name, value in report.counts.model_dump().items():
        table.add_row(name, str(value))
    console.print(table)
    for rejection in report.rejected[:50]:
        console.print(f"[yellow]rejected[/] {rejection.uri}: {'; '.join(rejection.errors)}")
    for failure in report.failures[:50]:
        console.print(
            f"[red]failed[/] {failure.uri} ({failure.stage}, {failure.error_type}): "
            f"{failure.message}"
        )
    hidden = max(0, len(report.rejected) - 50) + max(0, len(report.failures) - 50)
    if hidden:
        console.print(f"... and {hidden} more (use --json for the full report)")
    console.print(f"run id: {report.run_id}")


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
    with open_store(store) as opened:
        count = writer(opened, out, include_deleted=include_deleted)
    err_console.print(f"exported {count} document(s) to {out}")


@app.command("check")
def check(store: StoreOption = None) -> None:
    """Verify the store's integrity; exit 1 when a problem is found."""
    with open_store(store) as opened:
        problems = opened.check()
    for problem in problems:
        err_console.print(f"[red]{problem.code}[/]: {problem.message}")
    if problems:
        raise typer.Exit(ExitCode.ITEMS_FAILED)
    err_console.print("store is consistent")
