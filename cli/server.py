"""`ingest server start|stop|status`: a local Prefect server that every later `ingest`
command uses, so a run no longer pays for starting Prefect's temporary API."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated

import typer
from rich.console import Console

from . import local_server
from .app import app, err_console, fail_usage
from .prefect_env import profile_api_url

NOT_RUNNING = 3  # the LSB status code for "not running", as `systemctl status` uses

server_app = typer.Typer(
    help="A local Prefect server (127.0.0.1, SQLite in the data folder) that every "
    "ingest command uses while it runs; PREFECT_API_URL, when set, still wins.",
    no_args_is_help=True,
)
app.add_typer(server_app, name="server")


@server_app.command("start")
def start_command(
    port: Annotated[
        int | None,
        typer.Option("--port", help="Port on 127.0.0.1; default: 4200 if free, else any."),
    ] = None,
) -> None:
    """Start the server in the background (or say where it already runs)."""
    record = local_server.read_record()
    if record is not None and local_server.is_up(record):
        _print_started(record, already=True)
        return
    try:
        record = local_server.start(
            port,
            on_wait=lambda: err_console.print(
                "starting the Prefect server (its first start creates its database: "
                "about half a minute)..."
            ),
        )
    except local_server.LocalServerError as exc:
        raise fail_usage(str(exc)) from exc
    _print_started(record, already=False)


@server_app.command("status")
def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Whether the server is up, where, and how many flow runs it holds (exit 3 when
    it is not running)."""
    record = local_server.read_record()
    up = record is not None and local_server.is_up(record)
    runs = local_server.flow_run_count(record) if record is not None and up else None
    if as_json:
        payload = {
            "up": up,
            "url": record.url if record else None,
            "api_url": record.api_url if record else None,
            "pid": record.pid if record and up else None,
            "flow_runs": runs,
            "database": str(local_server.database_path()),
            "log": str(local_server.log_path()),
            "api_in_use": _explicit_api(),
        }
        sys.stdout.write(json.dumps(payload) + "\n")
    else:
        console = Console(highlight=False, soft_wrap=True)
        if record is None:
            console.print("down: no local Prefect server (start one with `ingest server start`)")
        elif not up:
            console.print(
                f"down: the local Prefect server at {record.url} is not running "
                "(`ingest server start` starts it again)"
            )
        else:
            console.print(
                f"up: {record.url} (UI), API {record.api_url}; pid {record.pid}, since "
                f"{record.started_at}; {runs} flow run{'s' if runs != 1 else ''}"
            )
            console.print(f"database {local_server.database_path()}, log {local_server.log_path()}")
        if explicit := _explicit_api():
            console.print(f"note: ingest commands use {explicit} (PREFECT_API_URL), not this one")
    if not up:
        raise typer.Exit(NOT_RUNNING)


@server_app.command("stop")
def stop_command() -> None:
    """Stop the server (its database stays for the next start)."""
    record = local_server.read_record()
    if record is None:
        err_console.print("no local Prefect server to stop")
        return
    running = local_server.is_up(record)
    local_server.stop(record)
    if running:
        err_console.print(f"stopped the Prefect server at {record.url}")
    else:
        err_console.print(f"the Prefect server at {record.url} was not running: forgotten")


def _print_started(record: local_server.ServerRecord, *, already: bool) -> None:
    console = Console(highlight=False, soft_wrap=True)
    state = "already running" if already else "running"
    console.print(f"Prefect server {state}: the UI is at {record.url}")
    console.print(
        "every ingest command uses it from now on (no temporary API to start: runs "
        "begin in about a second); `ingest server stop` ends it"
    )
    console.print(f"for the prefect CLI: export PREFECT_API_URL={record.api_url}")
    if explicit := _explicit_api():
        console.print(
            f"note: PREFECT_API_URL is set to {explicit}: ingest commands use that while it is"
        )


def _explicit_api() -> str | None:
    return os.environ.get("PREFECT_API_URL") or profile_api_url()
