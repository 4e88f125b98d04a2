"""`ingest submit fs|web`: queue a run of a deployment in the work queue of its
priority. Runs queued this way belong to a deployment, so the Prefect UI's Retry and
Cancel work on them too; the API is the one PREFECT_API_URL names."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from deployments.specs import FOLDER, SITE, SPECS
from ingest.errors import ConfigurationError

from .app import app, err_console
from .fs import check_folder
from .option_groups import takes
from .options import (
    FOLDER_RUN,
    SITE_GROUP,
    SUBMITTED_SITE_RUN,
    AuthOption,
    FolderArgs,
    RunArgs,
    SeedsArgument,
    SiteArgs,
)
from .parameters import folder_source, run_options, usage_errors, web_site
from .prefect_env import quiet_prefect

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

    with usage_errors():
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
@takes(folder=FolderArgs, run=FOLDER_RUN)
def submit_folder(
    path: Annotated[Path, typer.Argument(help="The folder to ingest (on the worker's machine).")],
    *,
    priority: PriorityOption = Priority.default,
    at: AtOption = None,
    worker_path: Annotated[
        bool,
        typer.Option(
            "--worker-path",
            help="PATH exists only on the worker's machine: pass it as given, unchecked.",
        ),
    ] = False,
    folder: FolderArgs,
    run: RunArgs,
    deployment: DeploymentOption = None,
    run_name: RunNameOption = None,
    as_json: SubmitJsonOption = False,
) -> None:
    """Queue a run of the folder deployment (`ingest-filesystem/folder`) with the
    options of `ingest fs`; the store is the worker's unless --store is given."""
    if not worker_path:
        check_folder(path)
    with usage_errors():
        options = run_options(run)
        source = folder_source(str(path) if worker_path else str(path.resolve()), folder)
        when = parse_when(at)
    quiet_prefect(False)
    _queue(
        deployment or SPECS[FOLDER].full_name,
        folder_parameters(source, options),
        priority,
        when,
        run_name,
        as_json,
        tags=[f"priority:{priority.value}"],
    )


@submit_app.command("web")
@takes(site=SITE_GROUP, run=SUBMITTED_SITE_RUN)
def submit_site(
    urls: SeedsArgument,
    *,
    priority: PriorityOption = Priority.default,
    at: AtOption = None,
    site: SiteArgs,
    auth: AuthOption = None,
    run: RunArgs,
    deployment: DeploymentOption = None,
    run_name: RunNameOption = None,
    as_json: SubmitJsonOption = False,
) -> None:
    """Queue a crawl with the site deployment (`ingest-web/site`) with the options of
    `ingest web`; the crawl runs on the worker's machine and network."""
    with usage_errors():
        options = run_options(run)
        config = web_site(urls, site)
        when = parse_when(at)
    quiet_prefect(False)
    if auth:
        from .auth import check_auth

        check_auth(auth)  # the worker loads it from the same API: refuse a wrong name now
    _queue(
        deployment or SPECS[SITE].full_name,
        site_parameters(config, options, auth),
        priority,
        when,
        run_name,
        as_json,
        tags=[f"priority:{priority.value}"],
    )
