"""What the run commands share: their common options, turning options into flow
parameters (bad ones exit 2 before any work), and printing the report."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from ingest.errors import ConfigurationError, ItemsFailedError
from ingest.models import RunReport

from .app import ExitCode, fail_usage
from .options import parse_schema_mappings

T = TypeVar("T")

StoreOption = Annotated[
    str | None,
    typer.Option("--store", envvar="INGEST_STORE", help="Store URL or SQLite file path."),
]
BatchSizeOption = Annotated[int, typer.Option("--batch-size", help="Items per batch task.")]
ConcurrencyOption = Annotated[int, typer.Option("--concurrency", help="Batches in flight at once.")]
FullOption = Annotated[
    bool, typer.Option("--full", help="Reprocess everything, ignoring fingerprints.")
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Treat validation warnings as errors.")
]
SchemaOption = Annotated[
    list[str] | None,
    typer.Option("--schema", help="GLOB=SCHEMA_FILE: validate matching JSON files."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the run report as JSON on stdout.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect logs.")]


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
    full: bool,
    strict: bool,
    schema: list[str] | None,
) -> Any:
    from flows.params import RunOptions
    from ingest.store import parse_store_url
    from ingest.validators import ValidationPolicy, check_policy

    parse_store_url(store)
    options = RunOptions(
        store=store,
        batch_size=batch_size,
        concurrency=concurrency,
        full=full,
        validation=ValidationPolicy(strict=strict, schemas=parse_schema_mappings(schema or [])),
    )
    check_policy(options.validation)
    return options


def run_and_exit(run: Callable[[], Any], as_json: bool) -> None:
    """Run a flow (returning its final state), print its report, exit by the contract."""
    report = report_of(run())
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        print_report(report, Console())
    raise typer.Exit(ExitCode.ITEMS_FAILED if report.counts.failed else ExitCode.OK)


def report_of(state: Any) -> RunReport:
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
