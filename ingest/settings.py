"""Settings that are not secret, read from `INGEST_*` environment variables."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def data_dir() -> Path:
    """Where the default store and persisted results live.

    `$INGEST_HOME`, else `$XDG_DATA_HOME/aichemist-ingest`, else
    `~/.local/share/aichemist-ingest`.
    """
    if home := os.environ.get("INGEST_HOME"):
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg).expanduser() / "aichemist-ingest"


class IngestSettings(BaseSettings):
    """Process-wide settings; flows take everything run-specific as parameters."""

    model_config = SettingsConfigDict(env_prefix="INGEST_", extra="ignore")

    store: str | None = Field(
        default=None,
        description="Store URL or SQLite path; default: ingest.db in the data folder.",
    )
    results_dir: Path | None = Field(
        default=None,
        description="Where Prefect persists batch results for resuming; default: results/ "
        "in the data folder.",
    )
    result_storage: str | None = Field(
        default=None,
        description="Where batch results persist, shared by every machine that may run or "
        "retry a run: a folder, an fsspec URL (file:///..., s3://bucket/prefix, ...) or "
        "block:TYPE/NAME (a saved Prefect filesystem block); credentials belong in the "
        "block or the fsspec backend's environment, never in the URL. Default: results_dir.",
    )
    result_ttl_hours: float = Field(
        default=7 * 24,
        gt=0,
        description="How long a persisted batch result can be reused by a retry.",
    )

    def resolved_results_dir(self) -> Path:
        return (self.results_dir or data_dir() / "results").expanduser()

    def result_location(self, override: str | None = None) -> str:
        """Where results persist: the run's own choice, else INGEST_RESULT_STORAGE, else
        the results folder (a path, an fsspec URL or `block:TYPE/NAME`)."""
        return override or self.result_storage or str(self.resolved_results_dir())
