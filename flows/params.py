"""Flow parameters as pydantic models, so the Prefect UI renders a form for them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from ingest.form_fields import OptionalText
from ingest.processors.base import ChunkPolicy
from ingest.sources.filesystem import FilesystemSourceConfig
from ingest.validators import ValidationPolicy


class FolderSource(FilesystemSourceConfig):
    """Which files to take from a folder."""

    # The folder source's own configuration, its root named `path` in the form and in
    # stored parameters, and `~` expanded on the machine that runs the flow.

    model_config = ConfigDict(
        validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )

    root: Path = Field(
        alias="path", description="The folder to ingest (on the machine that runs the flow)."
    )

    @field_validator("root")
    @classmethod
    def _expand_user(cls, value: Path) -> Path:
        return value.expanduser()

    def config(self) -> FilesystemSourceConfig:
        """The plain domain configuration (it pickles without this module)."""
        return FilesystemSourceConfig.model_validate(self.model_dump(by_alias=False))


class RunOptions(BaseModel):
    """How to run: store, batching, concurrency, validation and chunking."""

    store: OptionalText = Field(
        default="",
        description="Store URL or SQLite path; empty: $INGEST_STORE, else the data folder.",
    )
    batch_size: int = Field(default=500, ge=1, le=10_000, description="Items per batch task.")
    concurrency: int = Field(default=2, ge=1, le=64, description="Batches in flight at once.")
    workers: int = Field(
        default=0,
        ge=0,
        le=64,
        description="Processes for the batches (read, decode, validate, process, store); "
        "1 keeps them in the flow's process. 0 (automatic): the usable cores, at most 8, once "
        "the run has more than 300 items to process, else 1 (a pool takes seconds to start).",
    )
    full: bool = Field(
        default=False, description="Ignore fingerprints and hashes: reprocess every item."
    )
    retries: int = Field(default=2, ge=0, description="Retries of a batch with transient errors.")
    retry_delay_s: float = Field(default=2.0, ge=0, description="Delay between batch retries.")
    validation: ValidationPolicy = Field(
        default_factory=ValidationPolicy,
        description="Which validators run, their limits, strictness, schemas and custom rules.",
    )
    max_rejected_share: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="End the run Failed when rejected items exceed this share of the "
        "discovered ones (0.1 = 10%); 1 (the default): never.",
    )
    max_delete_share: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="When a complete discovery would mark deleted more than this share of "
        "the source's live items (an empty mount point, a site answering an empty page), "
        "delete nothing and end the run Failed; 1 allows any deletion.",
    )
    chunking: ChunkPolicy = Field(default_factory=ChunkPolicy)
    result_storage: OptionalText = Field(
        default="",
        description="Where batch results persist so that a retry on any machine finds "
        "them: a folder, an fsspec URL (file:///shared/results, s3://bucket/prefix) or "
        "block:TYPE/NAME (a saved Prefect filesystem block, e.g. "
        "block:remote-file-system/shared-results). Never credentials: parameters are "
        "stored in plain text; put them in the block. Empty: $INGEST_RESULT_STORAGE, "
        "else the data folder's results/.",
    )
    task_runner: Literal["thread", "process", "dask"] = Field(
        default="thread",
        description="Where batch tasks run: threads of the flow's process, a pool of "
        "processes (one per core), or a Dask cluster (the `dask` extra). Only the folder "
        "flow uses it.",
    )
    dask_address: OptionalText = Field(
        default="",
        description="Scheduler of an existing Dask cluster (tcp://host:8786) for "
        "task_runner=dask; empty: a local cluster for the run.",
    )

    @field_validator("store")
    @classmethod
    def _no_password(cls, value: str) -> str:
        from ingest.errors import ConfigurationError
        from ingest.store import parse_store_url

        try:
            secrets = parse_store_url(value).secrets if value.strip() else ()
        except ConfigurationError:
            return value  # reported with its reason where the store is opened
        if secrets:
            raise ValueError(
                "a password in the store URL would be stored in plain text with the run's "
                "parameters: give it to the worker through PGPASSWORD or ~/.pgpass, or set "
                "the whole URL in INGEST_STORE in the worker's environment"
            )
        return value

    @field_validator("result_storage")
    @classmethod
    def _no_credentials(cls, value: str) -> str:
        from .adapters.results import has_credentials

        if not value.strip():
            return ""
        if has_credentials(value):
            raise ValueError(
                "credentials in a result storage URL would be stored in plain text with "
                "the run's parameters: save them in a Prefect block (block:TYPE/NAME) or "
                "give them to the fsspec backend through its environment"
            )
        return value

    @field_validator("max_rejected_share", mode="before")
    @classmethod
    def _none_is_never(cls, value: Any) -> Any:
        return 1.0 if value is None else value

    def shaping(self) -> dict[str, object]:
        """The options that change the output (part of the job's identity)."""
        return self.model_dump(mode="json", include={"validation", "chunking", "full"})


def _options_or(default: RunOptions) -> BeforeValidator:
    """`None`, which earlier forms and callers passed for "the defaults", reads as
    `default`: the flow parameter stays a plain object in the deployment's form."""
    return BeforeValidator(lambda value: default.model_copy() if value is None else value)


FOLDER_RUN_OPTIONS = RunOptions()
SITE_RUN_OPTIONS = RunOptions(batch_size=50)
FolderRunOptions = Annotated[RunOptions, _options_or(FOLDER_RUN_OPTIONS)]
SiteRunOptions = Annotated[RunOptions, _options_or(SITE_RUN_OPTIONS)]
