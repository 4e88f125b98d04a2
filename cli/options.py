"""The options commands share, each declared once: single options (`--store`, `--json`,
`--verbose`) and the groups `FolderArgs` (what to read from a folder), `SiteArgs` (what
to crawl, and how hard) and `RunArgs` (how a run goes), with how each command takes
them (`FOLDER_RUN`, `SITE_GROUP`, `SITE_RUN`, `SUBMITTED_SITE_RUN`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import typer

from .option_groups import Group

StoreOption = Annotated[
    str | None,
    typer.Option("--store", envvar="INGEST_STORE", help="Store URL or SQLite file path."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the run report as JSON on stdout.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect logs.")]
AuthOption = Annotated[
    str | None,
    typer.Option(
        "--auth",
        metavar="BLOCK",
        help="Credentials block to send to the seeds' origins (see `ingest auth`).",
    ),
]
SeedsArgument = Annotated[
    list[str], typer.Argument(metavar="URL", help="Seed pages or sitemaps (http or https).")
]


@dataclass(frozen=True)
class RunArgs:
    """How a run goes: batches, validation, deletion guard, where results persist
    (`ingest fs`, `ingest web` and their `submit` forms)."""

    batch_size: Annotated[int, typer.Option("--batch-size", help="Items per batch task.")] = 500
    batch_concurrency: Annotated[
        int,
        typer.Option("--batch-concurrency", min=1, max=64, help="Batches in flight at once."),
    ] = 2
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=0,
            help="Processes for the batches (1: in this process). Default: the usable cores, "
            "at most 8, once a run has more than 300 items to process, else 1.",
            show_default="automatic",
        ),
    ] = 0
    full: Annotated[
        bool, typer.Option("--full", help="Reprocess everything, ignoring fingerprints.")
    ] = False
    strict: Annotated[
        bool, typer.Option("--strict", help="Treat validation warnings as errors.")
    ] = False
    schema: Annotated[
        list[str] | None,
        typer.Option("--schema", help="GLOB=SCHEMA_FILE: JSON Schema, .xsd or table schema (CSV)."),
    ] = None
    validator: Annotated[
        list[str] | None,
        typer.Option(
            "--validator",
            metavar="NAME",
            help="Run only this validator (repeatable; e.g. text, json); default: all.",
        ),
    ] = None
    skip_validator: Annotated[
        list[str] | None,
        typer.Option(
            "--skip-validator", metavar="NAME", help="Never run this validator (repeatable)."
        ),
    ] = None
    custom_validator: Annotated[
        list[str] | None,
        typer.Option(
            "--custom-validator",
            metavar="PKG.MOD:CALLABLE",
            help="Also run this Python callable on every item (repeatable).",
        ),
    ] = None
    max_rejected_share: Annotated[
        float | None,
        typer.Option(
            "--max-rejected-share",
            metavar="SHARE",
            help="End the run Failed (exit 1) when more than this share (0..1) of the "
            "discovered items is rejected.",
        ),
    ] = None
    max_delete_share: Annotated[
        float,
        typer.Option(
            "--max-delete-share",
            metavar="SHARE",
            min=0.0,
            max=1.0,
            help="When a complete discovery would mark deleted more than this share (0..1) "
            "of the source's stored items, delete nothing and end the run Failed (exit 1); "
            "1 allows any deletion.",
        ),
    ] = 0.5
    store: StoreOption = None
    result_storage: Annotated[
        str | None,
        typer.Option(
            "--result-storage",
            metavar="LOCATION",
            help="Where batch results persist for retries on any machine: a folder, an "
            "fsspec URL (file:///..., s3://...) or block:TYPE/NAME; default: "
            "$INGEST_RESULT_STORAGE, else results/ in the data folder.",
        ),
    ] = None
    task_runner: Annotated[
        str,
        typer.Option(
            "--task-runner",
            metavar="thread|process|dask",
            help="Where batches run: threads here, a process pool, or Dask (dask extra).",
        ),
    ] = "thread"
    dask_address: Annotated[
        str | None,
        typer.Option(
            "--dask-address",
            metavar="tcp://HOST:PORT",
            help="Dask scheduler for --task-runner dask; default: a local cluster.",
        ),
    ] = None


@dataclass(frozen=True)
class FolderArgs:
    """What to read from a folder (`ingest fs`, `ingest submit fs`)."""

    include: Annotated[
        list[str] | None, typer.Option("--include", help="Only files matching this glob.")
    ] = None
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Skip files matching this glob.")
    ] = None
    no_gitignore: Annotated[
        bool, typer.Option("--no-gitignore", help="Do not honour .gitignore files.")
    ] = False
    hidden: Annotated[bool, typer.Option("--hidden", help="Include hidden files.")] = False
    max_file_size: Annotated[
        str, typer.Option("--max-file-size", help="Reject larger files (e.g. 10MB).")
    ] = "10MiB"


class CrawlScope(StrEnum):
    """Which URLs a crawl may follow (`--scope`)."""

    host = "host"
    domain = "domain"
    prefix = "prefix"


@dataclass(frozen=True)
class SiteArgs:
    """What to crawl and how hard (`ingest web`, `ingest submit web`)."""

    max_depth: Annotated[int, typer.Option("--max-depth", help="Link hops from a seed.")] = 5
    max_pages: Annotated[int, typer.Option("--max-pages", help="Pages fetched at most.")] = 10_000
    scope: Annotated[
        CrawlScope,
        typer.Option(
            "--scope",
            case_sensitive=False,
            help="host: the seeds' hosts; domain: also their subdomains; prefix: only URLs "
            "under each seed's directory.",
        ),
    ] = CrawlScope.host
    domain: Annotated[
        list[str] | None,
        typer.Option("--domain", metavar="HOST", help="Also crawl this host (repeatable)."),
    ] = None
    prefix: Annotated[
        list[str] | None,
        typer.Option(
            "--prefix",
            metavar="URL",
            help="Only URLs under this prefix (repeatable; replaces the seeds' directories "
            "of --scope prefix).",
        ),
    ] = None
    include: Annotated[
        list[str] | None,
        typer.Option(
            "--include", "--allow", metavar="RE", help="Only URLs matching this regex (repeatable)."
        ),
    ] = None
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude", "--deny", metavar="RE", help="Skip URLs matching this regex (repeatable)."
        ),
    ] = None
    rate: Annotated[
        float | None,
        typer.Option("--rate", metavar="R", help="Requests per second to one host at most."),
    ] = None
    delay: Annotated[
        float,
        typer.Option(
            "--delay",
            metavar="SECONDS",
            help="Seconds between requests to one host (with --rate, the slower wins).",
        ),
    ] = 0.0
    host_concurrency: Annotated[
        int,
        typer.Option("--host-concurrency", min=1, help="Requests in flight to one host at most."),
    ] = 8
    max_requests: Annotated[
        int,
        typer.Option(
            "--max-requests", min=1, help="Requests in flight in all (every host) at most."
        ),
    ] = 16
    ignore_robots: Annotated[
        bool, typer.Option("--ignore-robots", help="Do not obey robots.txt (on purpose only).")
    ] = False
    sitemap: Annotated[
        list[str] | None,
        typer.Option(
            "--sitemap", metavar="URL", help="Also discover pages from this sitemap (repeatable)."
        ),
    ] = None
    allow_private_network: Annotated[
        bool,
        typer.Option(
            "--allow-private-network", help="Allow private, loopback and link-local addresses."
        ),
    ] = False
    max_response_size: Annotated[
        str,
        typer.Option(
            "--max-response-size",
            "--max-size",
            metavar="SIZE",
            help="Largest response body (e.g. 20MB); larger ones are cut.",
        ),
    ] = "20MB"
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            help="Seconds one attempt at a page may take in all, body included; a page that "
            "exceeds it on every attempt is failed.",
        ),
    ] = 120.0
    read_timeout: Annotated[
        float,
        typer.Option(
            "--read-timeout", metavar="SECONDS", help="Seconds to wait for data between two reads."
        ),
    ] = 30.0


# How each command takes the groups; the aliases are earlier spellings, hidden for one
# release (CHANGELOG).
FOLDER_RUN = Group(RunArgs, aliases={"--concurrency": "batch_concurrency"})
SITE_GROUP = Group(
    SiteArgs, aliases={"--concurrency": "host_concurrency", "--requests": "max_requests"}
)
SITE_RUN = Group(
    RunArgs, defaults={"batch_size": 50}, omit=frozenset({"task_runner", "dask_address"})
)
SUBMITTED_SITE_RUN = Group(
    RunArgs, defaults={"batch_size": 50}, omit=frozenset({"workers", "task_runner", "dask_address"})
)
