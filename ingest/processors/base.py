"""The processor interface: content in, a structured document out."""

from __future__ import annotations

from typing import ClassVar, Protocol

from pydantic import BaseModel, Field, field_validator

from ..chunking import resolve_tokenizer
from ..form_fields import OptionalText
from ..models import FetchedContent, ProcessedDocument


class ChunkPolicy(BaseModel):
    """How large chunks may be.

    Sizes are in characters; with a `tokenizer`, chunks also stay within
    `target_tokens` / `max_tokens` (both bounds hold: raise the character sizes to
    size chunks by tokens alone).
    """

    target_chars: int = Field(default=1000, ge=50, description="Size to aim for.")
    max_chars: int = Field(default=2000, ge=100, description="Hard upper bound of a chunk.")
    overlap_chars: int = Field(
        default=0,
        ge=0,
        description=(
            "Plain text: each chunk starts with up to this many characters repeating the end "
            "of the previous one; its length is in the chunk's `overlap_chars` metadata."
        ),
    )
    tokenizer: OptionalText = Field(
        default="",
        description=(
            "How to count tokens: 'whitespace' (words), 'chars', or 'package.module:function' "
            "naming a callable str -> int (e.g. a wrapper around a model's tokenizer); empty: "
            "characters only."
        ),
    )
    target_tokens: int = Field(
        default=256, ge=1, description="Tokens to aim for (with a tokenizer)."
    )
    max_tokens: int = Field(
        default=512, ge=1, description="Hard upper bound in tokens (with a tokenizer)."
    )

    @field_validator("tokenizer")
    @classmethod
    def _tokenizer_resolves(cls, value: str) -> str:
        if value:
            resolve_tokenizer(value)  # a bad name is a configuration error, found up front
        return value


class Processor(Protocol):
    """Turns fetched content of its content types into a `ProcessedDocument`.

    `version` is part of the pipeline version used in cache keys: bump it when the
    output changes. Raise `ProcessingError` (never anything else) on bad input.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    content_types: ClassVar[tuple[str, ...]]

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument: ...
