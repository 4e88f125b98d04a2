"""The bounds on reading documents, in one place: `INGEST_DOCUMENT_*` environment variables
override the defaults (worker and sandbox processes inherit them)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1024 * 1024


class DocumentLimits(BaseSettings):
    """Caps that keep a hostile document to its own item's time and memory."""

    model_config = SettingsConfigDict(env_prefix="INGEST_DOCUMENT_", extra="ignore")

    timeout_s: float = Field(
        default=30.0, gt=0, description="Wall seconds one document's parse may take."
    )
    memory_mb: int = Field(
        default=1024,
        ge=256,
        description="Address space of the parser process (RLIMIT_AS), in MiB.",
    )
    max_zip_members: int = Field(
        default=10_000, ge=1, description="Members a DOCX/PPTX/XLSX/EPUB package may hold."
    )
    max_unzipped_mb: int = Field(
        default=512, ge=1, description="Total uncompressed size of a package, in MiB."
    )
    max_compression_ratio: float = Field(
        default=200.0,
        gt=1,
        description="Largest uncompressed/compressed ratio of a member over 1 MiB (zip bombs).",
    )
    max_pages: int = Field(
        default=10_000, ge=1, description="PDF pages read; the rest are left out, with a warning."
    )
    max_sheet_rows: int = Field(
        default=100_000, ge=1, description="Rows read per sheet; with a warning when it cuts."
    )
    max_cells: int = Field(
        default=2_000_000, ge=1, description="Cells read per workbook; with a warning when it cuts."
    )
    max_chapters: int = Field(default=5_000, ge=1, description="EPUB spine items read.")

    @property
    def max_unzipped_bytes(self) -> int:
        return self.max_unzipped_mb * MB


@lru_cache(maxsize=1)
def document_limits() -> DocumentLimits:
    """The limits of this process, read once from the environment."""
    return DocumentLimits()
