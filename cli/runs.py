"""Job management over Prefect flow runs: `ingest runs`, `ingest status RUN_ID`,
`ingest cancel RUN_ID`, `ingest retry RUN_ID` (docs/architecture.md, "Contracts"). The API
is the one PREFECT_API_URL names; `deployments.runs` asks it."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from ingest.errors import ConfigurationError
from ingest.progress import DISCOVERING

from .app import ExitCode, app, err_console
from .options import VerboseOption
from .parameters import usage_errors
from .prefect_env import quiet_prefect
from .report import run_and_exit

if TYPE_CHECKING:
    from deployments.runs import Progress, RunRow


def parse_run_id(text: str) -> UUID:
    try:
        return UUID(text.strip())
    except ValueError as exc:
        raise ConfigurationError(f"{text!r} is not a flow run id (a UUID)") from exc


@app.command("runs")
def list_runs_command(
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            metavar="S",
            help="Only runs in this state: scheduled, pending, running, completed, failed, "
            "cancelled, cancelling, crashed, paused, late, awaiting-retry.",
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200, help="Runs shown.")] = 20,
    upcoming: Annotated[
        bool, typer.Option("--upcoming", help="Scheduled runs instead, soonest first.")
    ] = False,
    deployment: Annotated[
        str | None,
        typer.Option("--deployment", metavar="[FLOW/]NAME", help="Only runs of this deployment."),
    ] = None,
    flow: Annotated[
        str | None,
        typer.Option(
            "--flow", metavar="NAME", help="Only runs of this flow (fs, web, or its name)."
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="WHEN",
            help="Only runs started since: a duration ago (30m, 2h, 3d, 1w) or an ISO date/time.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON.")] = False,
) -> None:
    """Runs of the ingest flows that have started or ended, newest first; --upcoming
    for the scheduled ones; --state for any state."""
    quiet_prefect(False)
    from deployments.run_query import RunQuery, parse_since
    from deployments.runs import list_runs, parse_state_filter

    with usage_errors():
        if state:
            parse_state_filter(state)
        query = RunQuery(
            state=state,
            upcoming=upcoming,
            deployment=deployment,
            flow=flow,
            since=parse_since(since) if since else None,
            limit=limit,
        )
        rows = asyncio.run(list_runs(query))
    if as_json:
        sys.stdout.write(json.dumps([row.as_json() for row in rows], indent=2) + "\n")
    else:
        _print_runs(rows)


def _print_runs(rows: list[RunRow]) -> None:
    table = Table(title=f"ingest runs ({len(rows)})")
    table.add_column("id", no_wrap=True)
    for column in ("flow", "deployment", "state", "start"):
        table.add_column(column)
    table.add_column("duration", justify="right")
    table.add_column("outcomes")
    for row in rows:
        start = row.start or row.expected_start
        table.add_row(
            row.id,
            row.flow,
            row.deployment or "-",
            row.state,
            _local(start) + ("" if row.start else " (expected)") if start else "-",
            f"{row.duration_s:.1f}s" if row.duration_s is not None else "-",
            # A finished run's state message counts its outcomes (new 3, skipped 2, ...).
            row.message or "-",
        )
    _console().print(table)


def _console() -> Console:
    """Wide enough for run ids when the output is not a terminal (pipes, logs)."""
    return Console() if sys.stdout.isatty() else Console(width=200)


def _local(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


@app.command("status")
def status_command(
    run_id: Annotated[str, typer.Argument(help="The flow run id.")],
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Store to read counts and failures from; default: the run's own "
            "--store parameter, else $INGEST_STORE, else the default store.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """A run's state, progress (while it runs), counts and failures (when recorded)."""
    quiet_prefect(False)
    from deployments.runs import read_run

    with usage_errors():
        uuid = parse_run_id(run_id)
        row, progress = asyncio.run(read_run(uuid))
    status = _status(row, progress, _stored_run(row, store))
    if as_json:
        sys.stdout.write(json.dumps(status, indent=2) + "\n")
    else:
        _print_status(status, row, progress)


def _status(row: RunRow, progress: Progress | None, stored: Any) -> dict[str, Any]:
    """What `ingest status --json` prints: the run as the API has it, its progress, and
    its outcomes as the store recorded them (None where unknown)."""
    report = stored.report.model_dump(mode="json") if stored is not None else None
    return row.as_json() | {
        "message": row.message,
        "progress": None
        if progress is None
        else {"percent": progress.percent, "description": progress.description},
        "counts": report["counts"] if report else None,
        "skipped_by_reason": stored.report.skipped_by_code() if stored is not None else None,
        "failures": report["failures"] if report else [],
        "report_state": report["state"] if report else None,
        "notes": report.get("notes", []) if report else [],
    }


def _print_status(status: dict[str, Any], row: RunRow, progress: Progress | None) -> None:
    console = _console()
    console.print(f"[bold]{row.name}[/] ({row.id}) of {row.flow}/{row.deployment or '-'}")
    console.print(f"state: [bold]{row.state}[/]" + (f": {row.message}" if row.message else ""))
    if row.start:
        console.print(f"started: {_local(row.start)}, {row.duration_s or 0:.1f}s")
    elif row.expected_start:
        console.print(f"expected start: {_local(row.expected_start)}")
    if progress is not None and (progress.description or "").startswith(DISCOVERING):
        # No share is known yet: counts and rates only, no percentage.
        console.print(f"progress: {progress.description}")
    elif progress is not None:
        tail = f" ({progress.description})" if progress.description else ""
        console.print(f"progress: {progress.percent:.1f}%{tail}")
    if status["counts"] is not None:
        _print_outcomes(console, status)
    elif row.state_type in ("COMPLETED", "FAILED"):
        console.print("counts: not found in the store (give --store where the run wrote)")


def _print_outcomes(console: Console, status: dict[str, Any]) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in status["counts"].items())
    console.print(f"counts: {counts}")
    if status["skipped_by_reason"]:
        by_code = ", ".join(f"{k} {v}" for k, v in status["skipped_by_reason"].items())
        console.print(f"skipped by reason: {by_code}")
    for note in status["notes"]:
        console.print(f"[yellow]note:[/] {note}")
    failures = status["failures"]
    for failure in failures[:20]:
        console.print(f"[red]failed[/] {failure['uri']} ({failure['stage']}): {failure['message']}")
    if len(failures) > 20:
        console.print(f"... and {len(failures) - 20} more (use --json)")


def _stored_run(row: Any, store: str | None) -> Any:
    """The run as the store recorded it, from the store the run wrote to; None when
    that store is not reachable from here or has no record (yet)."""
    from ingest.errors import IngestError
    from ingest.store import open_store, parse_store_url

    url = store or (row.parameters.get("options") or {}).get("store") or None
    try:
        location = parse_store_url(url)
        if location.sqlite_path is not None and not location.sqlite_path.exists():
            return None  # never create a store just to look into it
        with open_store(url) as opened:
            return opened.get_run(row.id)
    except IngestError as exc:
        err_console.print(f"note: no counts from the store: {exc}")
        return None


@app.command("cancel")
def cancel_command(run_id: Annotated[str, typer.Argument(help="The flow run id.")]) -> None:
    """Cancel a run as the UI's Cancel does: it goes Cancelling and the worker (or
    `ingest serve`) that runs it stops it and marks it Cancelled. Work it committed
    stays; `ingest retry` or a new run continues from there."""
    quiet_prefect(False)
    from deployments.runs import cancel

    with usage_errors():
        uuid = parse_run_id(run_id)
        state = asyncio.run(cancel(uuid))
    err_console.print(f"run {uuid}: {state}")


@app.command("retry")
def retry_command(
    run_id: Annotated[str, typer.Argument(help="The flow run id.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="For an in-process retry: the report as JSON.")
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Retry a finished run (Failed, Crashed, Cancelled or Completed) as the same flow
    run, so batches it finished are not redone.

    A run of a deployment (queued with `ingest submit`, a schedule or the UI) goes back
    to its queue (AwaitingRetry, as the UI's Retry does) and returns at once: a worker
    or `ingest serve` picks it up. A run started with `ingest fs` / `ingest web` has no
    deployment to go back to: it runs again here, in this process, with the parameters
    the API recorded for it, and this command exits like `ingest fs` does.
    """
    quiet_prefect(verbose)
    from deployments.runs import rerun_here, schedule_retry

    with usage_errors():
        uuid = parse_run_id(run_id)
        row = asyncio.run(schedule_retry(uuid))
    if row.deployment_id is not None:
        err_console.print(
            f"run {uuid} of {row.flow}/{row.deployment or '?'} is queued again (AwaitingRetry); "
            "a worker picks it up"
        )
        raise typer.Exit(ExitCode.OK)
    err_console.print(f"run {uuid} has no deployment: running it again here")
    with usage_errors():
        run_and_exit(lambda: rerun_here(uuid), as_json)
