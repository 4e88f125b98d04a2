"""`ingest fs PATH`: a folder through the `ingest-filesystem` flow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import app, fail_usage
from .option_groups import takes
from .options import FOLDER_RUN, FolderArgs, JsonOption, RunArgs, VerboseOption
from .parameters import folder_source, run_options, usage_errors
from .prefect_env import quiet_prefect
from .report import run_and_exit


@app.command("fs")
@takes(folder=FolderArgs, run=FOLDER_RUN)
def ingest_folder(
    path: Annotated[Path, typer.Argument(help="The folder to ingest.")],
    *,
    folder: FolderArgs,
    run: RunArgs,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Ingest a folder through the `ingest-filesystem` flow."""
    check_folder(path)
    with usage_errors():
        options = run_options(run, local=True)
        source = folder_source(str(path.resolve()), folder)
    quiet_prefect(verbose)
    from flows.filesystem import ingest_filesystem

    run_and_exit(
        lambda: ingest_filesystem(source=source, options=options, return_state=True), as_json
    )


def check_folder(path: Path) -> None:
    """Exit 2 unless `path` is a folder here."""
    if not path.exists():
        raise fail_usage(f"{path}: no such folder")
    if not path.is_dir():
        raise fail_usage(f"{path}: not a folder")
