"""What the run commands share: their common options, turning options into flow
parameters (bad ones exit 2 before any work), and printing the report."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from ingest.errors import ConfigurationError, RunFailedError
from ingest.models import RunReport

from .app import ExitCode, err_console, fail_usage
from .options import parse_schema_mappings
from .output_paths import check_store_location

T = TypeVar("T")

StoreOption = Annotated[
    str | None,
    typer.Option("--store", envvar="INGEST_STORE", help="Store URL or SQLite file path."),
]
BatchSizeOption = Annotated[int, typer.Option("--batch-size", help="Items per batch task.")]
ConcurrencyOption = Annotated[int, typer.Option("--concurrency", help="Batches in flight at once.")]
WorkersOption = Annotated[
    int, typer.Option("--workers", help="Processes for the CPU work (1: in this process).")
]
FullOption = Annotated[
    bool, typer.Option("--full", help="Reprocess everything, ignoring fingerprints.")
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Treat validation warnings as errors.")
]
SchemaOption = Annotated[
    list[str] | None,
    typer.Option("--schema", help="GLOB=SCHEMA_FILE: JSON Schema, .xsd or table schema (CSV)."),
]
ValidatorOption = Annotated[
    list[str] | None,
    typer.Option(
        "--validator",
        metavar="NAME",
        help="Run only this validator (repeatable; e.g. text, json); default: all.",
    ),
]
SkipValidatorOption = Annotated[
    list[str] | None,
    typer.Option("--skip-validator", metavar="NAME", help="Never run this validator (repeatable)."),
]
CustomValidatorOption = Annotated[
    list[str] | None,
    typer.Option(
        "--custom-validator",
        metavar="PKG.MOD:CALLABLE",
        help="Also run this Python callable on every item (repeatable).",
    ),
]
MaxRejectedShareOption = Annotated[
    float | None,
    typer.Option(
        "--max-rejected-share",
        metavar="SHARE",
        help="End the run Failed (exit 1) when more than this share (0..1) of the "
        "discovered items is rejected.",
    ),
]
MaxDeleteShareOption = Annotated[
    float,
    typer.Option(
        "--max-delete-share",
        metavar="SHARE",
        min=0.0,
        max=1.0,
        help="When a complete discovery would mark deleted more than this share (0..1) of "
        "the source's stored items, delete nothing and end the run Failed (exit 1); "
        "1 allows any deletion.",
    ),
]
ResultStorageOption = Annotated[
    str | None,
    typer.Option(
        "--result-storage",
        metavar="LOCATION",
        help="Where batch results persist for retries on any machine: a folder, an fsspec "
        "URL (file:///..., s3://...) or block:TYPE/NAME; default: $INGEST_RESULT_STORAGE, "
        "else results/ in the data folder.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the run report as JSON on stdout.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect logs.")]
TaskRunnerOption = Annotated[
    str,
    typer.Option(
        "--task-runner",
        metavar="thread|process|dask",
        help="Where batches run: threads here, a process pool, or Dask (dask extra).",
    ),
]
DaskAddressOption = Annotated[
    str | None,
    typer.Option(
        "--dask-address",
        metavar="tcp://HOST:PORT",
        help="Dask scheduler for --task-runner dask; default: a local cluster.",
    ),
]


@contextmanager
def usage_errors() -> Iterator[None]:
    """Bad options and settings become one line on stderr and exit 2."""
    try:
        yield
    except ConfigurationError as exc:
        raise fail_usage(str(exc)) from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise fail_usage(problems) from exc


def run_options(
    *,
    store: str | None,
    batch_size: int,
    concurrency: int,
    workers: int = 1,
    full: bool,
    strict: bool,
    schema: list[str] | None,
    validator: list[str] | None = None,
    skip_validator: list[str] | None = None,
    custom_validator: list[str] | None = None,
    max_rejected_share: float | None = None,
    max_delete_share: float = 0.5,
    result_storage: str | None = None,
    task_runner: str = "thread",
    dask_address: str | None = None,
    local: bool = False,
) -> Any:
    """The flow's RunOptions; raises ConfigurationError (or pydantic's ValidationError)
    for anything wrong, including validators, custom rules and schemas that cannot load.

    A `local` run (the flow runs in this process) takes a password out of the store URL
    and hands it to the driver through PGPASSWORD, so that it never becomes a flow
    parameter; a submitted run refuses it (its worker must have it)."""
    from flows.params import RunOptions
    from flows.results import check_storage
    from flows.runners import check_runner
    from ingest.store import parse_store_url, split_password
    from ingest.validators import ValidationPolicy, check_policy

    parse_store_url(store)
    if local:
        check_store_location(store)
    if local and store:
        store, password = split_password(store)
        if password:
            os.environ["PGPASSWORD"] = password
    options = RunOptions(
        store=store,
        batch_size=batch_size,
        concurrency=concurrency,
        workers=workers,
        full=full,
        validation=ValidationPolicy(
            enabled=validator or None,
            disabled=skip_validator or [],
            strict=strict,
            schemas=parse_schema_mappings(schema or []),
            custom=custom_validator or [],
        ),
        max_rejected_share=max_rejected_share,
        max_delete_share=max_delete_share,
        result_storage=result_storage,
        task_runner=task_runner,
        dask_address=dask_address,
    )
    check_policy(options.validation)
    check_runner(options)
    if options.result_storage:
        check_storage(options.result_storage)  # an unknown block fails here, before any work
    return options


def run_and_exit(run: Callable[[], Any], as_json: bool) -> None:
    """Run a flow (returning its final state) with progress on stderr, print its
    report, exit by the contract."""
    from ingest.progress import progress_listeners

    from .progress import terminal_progress

    with terminal_progress(err_console) as listener, progress_listeners(listener):
        state = run()
    report = report_of(state)
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        print_report(report, Console())
    for note in report.notes:
        err_console.print(f"[yellow]note:[/] {note}")
    if report.state == "Failed" and not report.counts.failed:
        err_console.print(f"[bold red]run failed:[/] {state.message}")
    failed = report.counts.failed or report.state == "Failed"
    raise typer.Exit(ExitCode.ITEMS_FAILED if failed else ExitCode.OK)


def report_of(state: Any) -> RunReport:
    data = state.result(raise_on_failure=False)
    if isinstance(data, dict):
        return RunReport.model_validate(data)
    if isinstance(data, RunFailedError):
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
    if report.skipped:
        by_code = ", ".join(f"{code} {n}" for code, n in report.skipped_by_code().items())
        console.print(f"[dim]skipped[/] (not ingested by policy or type): {by_code}")
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
