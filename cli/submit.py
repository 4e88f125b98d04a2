"""Job management on Prefect: `ingest serve`, `ingest submit fs|web`, `ingest runs`,
`ingest status`, `ingest cancel`, `ingest retry` (DESIGN.md section 4).

Runs queued with `submit` belong to a deployment, so the Prefect UI's Retry and Cancel
work on them too. Everything here talks to the server named by PREFECT_API_URL.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from ingest.errors import ConfigurationError

from .app import ExitCode, app, err_console, fail_usage
from .common import (
    BatchSizeOption,
    ConcurrencyOption,
    CustomValidatorOption,
    DaskAddressOption,
    FullOption,
    MaxDeleteShareOption,
    MaxRejectedShareOption,
    ResultStorageOption,
    SchemaOption,
    SkipValidatorOption,
    StoreOption,
    StrictOption,
    TaskRunnerOption,
    ValidatorOption,
    VerboseOption,
    WorkersOption,
    run_and_exit,
    run_options,
    usage_errors,
)
from .fs import folder_source
from .quiet import quiet_prefect
from .web import (
    AllowPrivateNetworkOption,
    AuthOption,
    BatchConcurrencyOption,
    CrawlScope,
    DelayOption,
    DomainOption,
    ExcludeOption,
    HostConcurrencyOption,
    IgnoreRobotsOption,
    IncludeOption,
    MaxDepthOption,
    MaxPagesOption,
    MaxResponseSizeOption,
    PrefixOption,
    RateOption,
    ReadTimeoutOption,
    RequestsOption,
    ScopeOption,
    SeedsArgument,
    SitemapOption,
    TimeoutOption,
    web_site,
)

FS_DEPLOYMENT = "ingest-filesystem/folder"
WEB_DEPLOYMENT = "ingest-web/site"

submit_app = typer.Typer(
    help="Queue a run of a deployment in the work queue of its priority; prints the run id.",
    no_args_is_help=True,
)
app.add_typer(submit_app, name="submit")


class Priority(StrEnum):
    """The work queues of the `ingest` pool, served in this order."""

    high = "high"
    default = "default"
    low = "low"


PriorityOption = Annotated[
    Priority,
    typer.Option(
        "--priority",
        case_sensitive=False,
        help="Work queue: high runs before default, default before low.",
    ),
]
AtOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        metavar="TIME",
        help="Start at TIME: ISO 8601 (2025-06-01T02:00, local time unless it has an "
        "offset) or in N seconds/minutes/hours/days (+90s, +10m, +2h, +1d). Default: now.",
    ),
]
DeploymentOption = Annotated[
    str | None,
    typer.Option("--deployment", metavar="FLOW/NAME", help="Another deployment of the flow."),
]
RunNameOption = Annotated[
    str | None, typer.Option("--name", help="Name of the flow run (default: generated).")
]
SubmitJsonOption = Annotated[
    bool, typer.Option("--json", help="Print the queued run as JSON instead of its id.")
]

_RELATIVE = re.compile(r"^\s*\+?\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_when(text: str | None, now: datetime | None = None) -> datetime | None:
    """`--at` as an aware datetime (None: now). Raises ConfigurationError."""
    if text is None or not text.strip():
        return None
    now = now or datetime.now(UTC)
    if match := _RELATIVE.match(text):
        return now + timedelta(
            seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        )
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ConfigurationError(
            f"invalid --at {text!r}: use an ISO 8601 time (2025-06-01T02:00) or +10m, +2h"
        ) from exc
    if when.tzinfo is None:
        when = when.astimezone()  # local time, as the user reads a clock
    return when


def folder_parameters(source: Any, options: Any) -> dict[str, Any]:
    """The `ingest-filesystem` flow's parameters as the API stores them (JSON)."""
    return {"source": source.model_dump(mode="json"), "options": options.model_dump(mode="json")}


def site_parameters(site: Any, options: Any, auth: str | None = None) -> dict[str, Any]:
    """The `ingest-web` flow's parameters as the API stores them (JSON); `auth` is the
    name of a credentials block, never a secret."""
    parameters = {"site": site.model_dump(mode="json"), "options": options.model_dump(mode="json")}
    return {**parameters, "auth": auth} if auth else parameters


def parse_run_id(text: str) -> UUID:
    try:
        return UUID(text.strip())
    except ValueError as exc:
        raise ConfigurationError(f"{text!r} is not a flow run id (a UUID)") from exc


@contextmanager
def job_errors() -> Iterator[None]:
    """Unknown runs, refused transitions and an unreachable server: exit 2."""
    with usage_errors():
        yield


def _queue(
    deployment: str,
    parameters: dict[str, Any],
    priority: Priority,
    when: datetime | None,
    run_name: str | None,
    as_json: bool,
    tags: list[str],
) -> None:
    from deployments.runs import submit

    with job_errors():
        queued = asyncio.run(
            submit(
                deployment,
                parameters,
                queue=priority.value,
                scheduled_time=when,
                run_name=run_name,
                tags=tags,
            )
        )
    if queued.queue is None and priority is not Priority.default:
        err_console.print(
            f"note: {deployment} is served without a work pool (ingest serve): "
            "--priority has no effect"
        )
    if as_json:
        payload = {
            "run_id": queued.run_id,
            "name": queued.name,
            "deployment": queued.deployment,
            "queue": queued.queue,
            "scheduled_time": queued.scheduled_time.isoformat() if queued.scheduled_time else None,
        }
        sys.stdout.write(json.dumps(payload) + "\n")
    else:
        at = queued.scheduled_time.isoformat(timespec="seconds") if queued.scheduled_time else "now"
        err_console.print(
            f"queued {queued.name} of {queued.deployment} in queue {queued.queue or '-'} "
            f"for {at}; follow it with `ingest status {queued.run_id}`"
        )
        sys.stdout.write(queued.run_id + "\n")


@submit_app.command("fs")
def submit_folder(
    path: Annotated[Path, typer.Argument(help="The folder to ingest (on the worker's machine).")],
    priority: PriorityOption = Priority.default,
    at: AtOption = None,
    worker_path: Annotated[
        bool,
        typer.Option(
            "--worker-path",
            help="PATH exists only on the worker's machine: pass it as given, unchecked.",
        ),
    ] = False,
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
    batch_size: BatchSizeOption = 200,
    concurrency: ConcurrencyOption = 2,
    workers: WorkersOption = 1,
    full: FullOption = False,
    strict: StrictOption = False,
    schema: SchemaOption = None,
    validator: ValidatorOption = None,
    skip_validator: SkipValidatorOption = None,
    custom_validator: CustomValidatorOption = None,
    max_rejected_share: MaxRejectedShareOption = None,
    max_delete_share: MaxDeleteShareOption = 0.5,
    store: StoreOption = None,
    result_storage: ResultStorageOption = None,
    task_runner: TaskRunnerOption = "thread",
    dask_address: DaskAddressOption = None,
    deployment: DeploymentOption = None,
    run_name: RunNameOption = None,
    as_json: SubmitJsonOption = False,
) -> None:
    """Queue a run of the folder deployment (`ingest-filesystem/folder`) with the
    options of `ingest fs`; the store is the worker's unless --store is given."""
    if not worker_path:
        if not path.exists():
            raise fail_usage(f"{path}: no such folder")
        if not path.is_dir():
            raise fail_usage(f"{path}: not a folder")
    with usage_errors():
        options = run_options(
            store=store,
            batch_size=batch_size,
            concurrency=concurrency,
            workers=workers,
            full=full,
            strict=strict,
            schema=schema,
            validator=validator,
            skip_validator=skip_validator,
            custom_validator=custom_validator,
            max_rejected_share=max_rejected_share,
            max_delete_share=max_delete_share,
            result_storage=result_storage,
            task_runner=task_runner,
            dask_address=dask_address,
        )
        source = folder_source(
            str(path) if worker_path else str(path.resolve()),
            include,
            exclude,
            no_gitignore,
            hidden,
            max_file_size,
        )
        when = parse_when(at)
    quiet_prefect(False)
    _queue(
        deployment or FS_DEPLOYMENT,
        folder_parameters(source, options),
        priority,
        when,
        run_name,
        as_json,
        tags=[f"priority:{priority.value}"],
    )


@submit_app.command("web")
def submit_site(
    urls: SeedsArgument,
    priority: PriorityOption = Priority.default,
    at: AtOption = None,
    max_depth: MaxDepthOption = 5,
    max_pages: MaxPagesOption = 10_000,
    scope: ScopeOption = CrawlScope.host,
    domain: DomainOption = None,
    prefix: PrefixOption = None,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    rate: RateOption = None,
    delay: DelayOption = 0.0,
    concurrency: HostConcurrencyOption = 8,
    requests: RequestsOption = 16,
    ignore_robots: IgnoreRobotsOption = False,
    sitemap: SitemapOption = None,
    allow_private_network: AllowPrivateNetworkOption = False,
    max_response_size: MaxResponseSizeOption = "20MB",
    timeout: TimeoutOption = 120.0,
    read_timeout: ReadTimeoutOption = 30.0,
    auth: AuthOption = None,
    batch_size: BatchSizeOption = 50,
    batch_concurrency: BatchConcurrencyOption = 2,
    full: FullOption = False,
    strict: StrictOption = False,
    schema: SchemaOption = None,
    validator: ValidatorOption = None,
    skip_validator: SkipValidatorOption = None,
    custom_validator: CustomValidatorOption = None,
    max_rejected_share: MaxRejectedShareOption = None,
    max_delete_share: MaxDeleteShareOption = 0.5,
    store: StoreOption = None,
    result_storage: ResultStorageOption = None,
    deployment: DeploymentOption = None,
    run_name: RunNameOption = None,
    as_json: SubmitJsonOption = False,
) -> None:
    """Queue a crawl with the site deployment (`ingest-web/site`) with the options of
    `ingest web`; the crawl runs on the worker's machine and network."""
    with usage_errors():
        options = run_options(
            store=store,
            batch_size=batch_size,
            concurrency=batch_concurrency,
            full=full,
            strict=strict,
            schema=schema,
            validator=validator,
            skip_validator=skip_validator,
            custom_validator=custom_validator,
            max_rejected_share=max_rejected_share,
            max_delete_share=max_delete_share,
            result_storage=result_storage,
        )
        site = web_site(
            urls,
            scope=scope,
            domain=domain,
            prefix=prefix,
            include=include,
            exclude=exclude,
            max_depth=max_depth,
            max_pages=max_pages,
            max_response_size=max_response_size,
            rate=rate,
            delay=delay,
            concurrency=concurrency,
            requests=requests,
            ignore_robots=ignore_robots,
            sitemap=sitemap,
            allow_private_network=allow_private_network,
            timeout=timeout,
            read_timeout=read_timeout,
        )
        when = parse_when(at)
    quiet_prefect(False)
    if auth:
        from .auth import check_auth

        check_auth(auth)  # the worker loads it from the same API: refuse a wrong name now
    _queue(
        deployment or WEB_DEPLOYMENT,
        site_parameters(site, options, auth),
        priority,
        when,
        run_name,
        as_json,
        tags=[f"priority:{priority.value}"],
    )


@app.command("serve")
def serve_command(
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Flow runs at once on this machine.")
    ] = None,
    schedules: Annotated[
        bool, typer.Option("--schedules", help="Also run the example cron schedules.")
    ] = False,
    keep_schedules: Annotated[
        bool,
        typer.Option("--keep-schedules-on-exit", help="Do not pause the schedules when stopping."),
    ] = False,
) -> None:
    """Serve both deployments (`ingest-filesystem/folder`, `ingest-web/site`) from this
    machine, without a work pool: runs queued with `ingest submit` or from the UI start
    here, in subprocesses, until you stop this command (Ctrl-C)."""
    with job_errors():
        from deployments.runs import api_url

        api_url()
    quiet_prefect(False)
    from deployments.serve import serve

    serve(limit=limit, schedules=schedules, pause_on_shutdown=not keep_schedules)


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

    with job_errors():
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
        return
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

    with job_errors():
        uuid = parse_run_id(run_id)
        row, progress = asyncio.run(read_run(uuid))
    stored = _stored_run(row, store)
    failures = []
    report: dict[str, Any] | None = None
    if stored is not None:
        report = stored.report.model_dump(mode="json")
        failures = report["failures"]
    payload: dict[str, Any] = row.as_json() | {
        "message": row.message,
        "progress": None
        if progress is None
        else {"percent": progress.percent, "description": progress.description},
        "counts": report["counts"] if report else None,
        "skipped_by_reason": stored.report.skipped_by_code() if stored is not None else None,
        "failures": failures,
        "report_state": report["state"] if report else None,
        "notes": report.get("notes", []) if report else [],
    }
    if as_json:
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    console = _console()
    console.print(f"[bold]{row.name}[/] ({row.id}) of {row.flow}/{row.deployment or '-'}")
    console.print(f"state: [bold]{row.state}[/]" + (f": {row.message}" if row.message else ""))
    if row.start:
        console.print(f"started: {_local(row.start)}, {row.duration_s or 0:.1f}s")
    elif row.expected_start:
        console.print(f"expected start: {_local(row.expected_start)}")
    if progress is not None:
        tail = f" ({progress.description})" if progress.description else ""
        console.print(f"progress: {progress.percent:.1f}%{tail}")
    if report:
        counts = ", ".join(f"{k} {v}" for k, v in report["counts"].items())
        console.print(f"counts: {counts}")
        if stored.report.skipped:
            by_code = ", ".join(f"{k} {v}" for k, v in stored.report.skipped_by_code().items())
            console.print(f"skipped by reason: {by_code}")
        for note in report.get("notes", []):
            console.print(f"[yellow]note:[/] {note}")
        for failure in failures[:20]:
            console.print(
                f"[red]failed[/] {failure['uri']} ({failure['stage']}): {failure['message']}"
            )
        if len(failures) > 20:
            console.print(f"... and {len(failures) - 20} more (use --json)")
    elif row.state_type in ("COMPLETED", "FAILED"):
        console.print("counts: not found in the store (give --store where the run wrote)")


def _stored_run(row: Any, store: str | None) -> Any:
    """The run as the store recorded it, from the store the run wrote to; None when
    that store is not reachable from here or has no record (yet)."""
    from ingest.errors import IngestError
    from ingest.store import open_store, parse_store_url

    url = store or (row.parameters.get("options") or {}).get("store")
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

    with job_errors():
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

    with job_errors():
        uuid = parse_run_id(run_id)
        row = asyncio.run(schedule_retry(uuid))
    if row.deployment_id is not None:
        err_console.print(
            f"run {uuid} of {row.flow}/{row.deployment or '?'} is queued again (AwaitingRetry); "
            "a worker picks it up"
        )
        raise typer.Exit(ExitCode.OK)
    err_console.print(f"run {uuid} has no deployment: running it again here")
    with job_errors():
        run_and_exit(lambda: rerun_here(uuid), as_json)
