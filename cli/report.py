"""Running a flow from a command: progress on stderr, the run report on stdout (a table,
or JSON with `--json`), and the exit code of the contract."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from ingest.errors import ConfigurationError, RunFailedError
from ingest.models import RunReport

from .app import ExitCode, err_console

SHOWN = 50  # rejections and failures listed in the table; --json has them all


def run_and_exit(run: Callable[[], Any], as_json: bool) -> None:
    """Run a flow (returning its final state) with progress on stderr, print its
    report, exit by the contract."""
    from flows.adapters._prefect_compat import end_runs_without_joining_heartbeats
    from ingest.progress import progress_listeners

    from .progress import terminal_progress

    end_runs_without_joining_heartbeats()

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
    for rejection in report.rejected[:SHOWN]:
        console.print(f"[yellow]rejected[/] {rejection.uri}: {'; '.join(rejection.errors)}")
    for failure in report.failures[:SHOWN]:
        console.print(
            f"[red]failed[/] {failure.uri} ({failure.stage}, {failure.error_type}): "
            f"{failure.message}"
        )
    hidden = max(0, len(report.rejected) - SHOWN) + max(0, len(report.failures) - SHOWN)
    if hidden:
        console.print(f"... and {hidden} more (use --json for the full report)")
    console.print(f"run id: {report.run_id}")
