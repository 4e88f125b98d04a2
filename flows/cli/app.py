"""The typer application and the exit-code contract (DESIGN.md section 4)."""

from __future__ import annotations

import sys
from enum import IntEnum

import typer
from rich.console import Console

from ingest.errors import ConfigurationError, IngestError

app = typer.Typer(
    name="ingest",
    help="Ingest folders and web sites into processed, chunked documents (Prefect 3).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class ExitCode(IntEnum):
    OK = 0
    ITEMS_FAILED = 1
    USAGE = 2
    INTERRUPTED = 130


def fail_usage(message: str) -> typer.Exit:
    """One clear line on stderr, exit 2, before any work."""
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(ExitCode.USAGE)


def main() -> None:
    from . import commands  # noqa: F401  (registers the commands on `app`)

    try:
        app()
    except ConfigurationError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        sys.exit(ExitCode.USAGE)
    except IngestError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        sys.exit(ExitCode.ITEMS_FAILED)
    except KeyboardInterrupt:
        err_console.print("interrupted: the run is resumable (run the same command again)")
        sys.exit(ExitCode.INTERRUPTED)
