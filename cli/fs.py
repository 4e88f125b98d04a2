"""`ingest fs PATH`: a folder through the `ingest-filesystem` flow."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .app import app, fail_usage
from .common import (
    BatchSizeOption,
    ConcurrencyOption,
    CustomValidatorOption,
    DaskAddressOption,
    FullOption,
    JsonOption,
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
from .options import parse_size
from .quiet import quiet_prefect

if TYPE_CHECKING:
    from flows.params import FolderSource


@app.command("fs")
def ingest_folder(
    path: Annotated[Path, typer.Argument(help="The folder to ingest.")],
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
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Ingest a folder through the `ingest-filesystem` flow."""
    if not path.exists():
        raise fail_usage(f"{path}: no such folder")
    if not path.is_dir():
        raise fail_usage(f"{path}: not a folder")
    with usage_errors():
        options = run_options(
            local=True,
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
            str(path.resolve()), include, exclude, no_gitignore, hidden, max_file_size
        )
    quiet_prefect(verbose)
    from flows.filesystem import ingest_filesystem

    run_and_exit(
        lambda: ingest_filesystem(source=source, options=options, return_state=True), as_json
    )


def folder_source(
    path: str,
    include: list[str] | None,
    exclude: list[str] | None,
    no_gitignore: bool,
    hidden: bool,
    max_file_size: str,
) -> FolderSource:
    """The flow's folder parameters from the command's options (shared with submit)."""
    from flows.params import FolderSource

    return FolderSource(
        path=path,
        include=include or [],
        exclude=exclude or [],
        gitignore=not no_gitignore,
        hidden=hidden,
        max_file_size=parse_size(max_file_size),
    )
