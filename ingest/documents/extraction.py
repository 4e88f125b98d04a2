"""What a parse in the sandbox hands back: plain, JSON-safe data (sections of text blocks,
each block with its location), or an `ExtractionError` with a reason code."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Codes whose items are skipped (not ingested by type), not rejected.
SKIP_CODES = frozenset({"no-text-layer"})


class ExtractionError(Exception):
    """The document cannot be read: `code` is the reason code of the item's outcome."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Block:
    """A unit of text that is never split unless it is over the chunk size (a page, a
    paragraph, a table row, a sheet row), with its location (`page`, `row`, ...). `glue`
    joins it to the block before it."""

    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    glue: str = "\n\n"


@dataclass
class Part:
    """A section of the document: its heading path, its location (`slide`, `sheet`,
    `chapter`...), its blocks; `repeat` (a header row) starts every chunk but the first."""

    heading_path: list[str]
    meta: dict[str, Any] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    repeat: str | None = None


@dataclass
class Extracted:
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Extracted:
        parts = [
            Part(
                heading_path=list(part["heading_path"]),
                meta=dict(part["meta"]),
                blocks=[Block(**block) for block in part["blocks"]],
                repeat=part.get("repeat"),
            )
            for part in data["parts"]
        ]
        return cls(
            title=data.get("title"),
            metadata=dict(data.get("metadata") or {}),
            warnings=list(data.get("warnings") or []),
            parts=parts,
        )


def clean_text(text: str) -> str:
    """Newlines normalised, NULs and other control characters (pdfium's soft-hyphen and
    line-break marks among them) dropped, trailing spaces of lines removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_CONTROLS)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


_CONTROLS = {c: None for c in (*range(0, 9), 11, 12, *range(14, 32), 0x7F, 0xFFFE, 0xFFFF)}
