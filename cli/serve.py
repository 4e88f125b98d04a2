"""`ingest serve`: run both deployments on this machine, without a work pool."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import app
from .parameters import usage_errors
from .prefect_env import quiet_prefect


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
    with usage_errors():
        from deployments.runs import api_url

        api_url()
    quiet_prefect(False)
    from deployments.serve import serve

    serve(limit=limit, schedules=schedules, pause_on_shutdown=not keep_schedules)
