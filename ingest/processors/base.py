"""The processor interface: content in, a structured document out."""

from __future__ import annotations

from typing import ClassVar, Protocol

from pydantic import BaseModel, Field

from ..models import FetchedContent, ProcessedDocument


class ChunkPolicy(BaseModel):
    """How large chunks may be. Sizes are in characters."""

    target_chars: int = Field(default=1000, ge=50, description="Size to aim for.")
    max_chars: int = Field(default=2000, ge=100, description="Hard upper bound of a chunk.")
    overlap_chars: int = Field(default=0, ge=0, description="Overlap between text chunks.")


class Processor(Protocol):
    """Turns fetched content of its content types into a `ProcessedDocument`.

    `version` is part of the pipeline version used in cache keys: bump it when the
    output changes. Raise `ProcessingError` (never anything else) on bad input.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    content_types: ClassVar[tuple[str, ...]]

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument: ...
