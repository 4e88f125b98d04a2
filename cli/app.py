"""The typer application and the exit-code contract (docs/architecture.md, "Contracts")."""

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


# Commands that never talk to Prefect skip the look for a local server.
_WITHOUT_PREFECT = {"server", "export", "check"}


@app.callback()
def _choose_prefect_api(ctx: typer.Context) -> None:
    from .prefect_env import use_local_server

    if ctx.invoked_subcommand not in _WITHOUT_PREFECT:
        use_local_server(lambda line: err_console.print(f"note: {line}"))


def fail_usage(message: str) -> typer.Exit:
    """One clear line on stderr, exit 2, before any work."""
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(ExitCode.USAGE)


def main() -> None:
    from .prefect_env import prepare_prefect_settings, startup_failure

    prepare_prefect_settings()
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
    except Exception as exc:
        if (message := startup_failure(exc)) is None:
            raise
        err_console.print(f"[bold red]error:[/] {message}")
        sys.exit(ExitCode.USAGE)
