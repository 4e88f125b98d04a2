"""The base of the document processors (PDF, DOCX, PPTX, XLSX, EPUB): the parse runs in
the sandbox process, and its sections of located blocks become chunks here. Blocks are
packed up to the chunk size and never cut unless one is over the maximum; a chunk's
location spans its blocks (`page_start`..`page_end`, `row_start`..`row_end`, ...), so a
chunk that straddles pages says so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from ..chunking import ChunkList, size_limits, split_text
from ..documents.extraction import SKIP_CODES, Block, Extracted, Part
from ..documents.limits import document_limits
from ..documents.sandbox import SandboxCrash, SandboxTimeout, sandbox
from ..errors import ItemSkippedError, ProcessingError
from ..models import FetchedContent, ProcessedDocument
from ._common import build_document
from .base import ChunkPolicy

#: Block location keys that become `KEY_start` / `KEY_end` on a chunk.
RANGE_KEYS = ("page", "paragraph", "row", "col", "table_row")


class DocumentProcessor:
    name: ClassVar[str]
    version: ClassVar[str]
    content_types: ClassVar[tuple[str, ...]]
    kind: ClassVar[str]

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument:
        extracted = self.extract(content)
        chunks = ChunkList(content.item.uri, content.content_type)
        texts: list[str] = []
        for part in extracted.parts:
            texts.append(_part_text(part))
            for text, blocks in pack_part(part, policy):
                location = {"heading_path": part.heading_path, **part.meta, **merge_meta(blocks)}
                chunks.add(text, **self.locate(location))
        metadata = dict(extracted.metadata)
        if extracted.warnings:
            metadata["warnings"] = list(extracted.warnings)
        return build_document(
            content,
            text="\n\n".join(text for text in texts if text),
            title=extracted.title,
            metadata=metadata,
            chunks=chunks.chunks,
        )

    def locate(self, location: dict[str, Any]) -> dict[str, Any]:
        """A chunk's final location metadata (a format adds derived keys here)."""
        return location

    def extract(self, content: FetchedContent) -> Extracted:
        """The sandbox's parse of `content`. Raises ProcessingError with the reason code in
        `details["code"]` (retryable when the parse ran out of time), or ItemSkippedError."""
        uri = content.item.uri
        try:
            reply = sandbox().run(self.kind, content.data, document_limits())
        except SandboxTimeout as exc:
            # Perhaps only a loaded machine: failed, so the next run tries again.
            raise ProcessingError(
                str(exc), uri=uri, processor_id=self.name, retryable=True,
                details={"code": "parse-timeout"},
            ) from exc  # fmt: skip
        except SandboxCrash as exc:
            raise ProcessingError(
                str(exc), uri=uri, processor_id=self.name, details={"code": "parser-crashed"}
            ) from exc
        if "ok" in reply:
            return Extracted.from_json(reply["ok"])
        code, message = reply["error"]["code"], reply["error"]["message"]
        if code in SKIP_CODES:
            raise ItemSkippedError(message, code=code, uri=uri, processor_id=self.name)
        raise ProcessingError(message, uri=uri, processor_id=self.name, details={"code": code})


def _part_text(part: Part) -> str:
    return "".join(
        (block.glue if n else "") + block.text for n, block in enumerate(part.blocks)
    ).strip()


def pack_part(part: Part, policy: ChunkPolicy) -> Iterator[tuple[str, list[Block]]]:
    """The chunks of a part as (text, the blocks it holds): consecutive blocks up to the
    target size, a block over the maximum split into pieces that keep its location;
    `part.repeat` (a header row) starts every chunk after the first."""
    limits = size_limits(policy)
    prefix = f"{part.repeat}\n" if part.repeat else ""
    inner = policy
    if prefix:
        inner = policy.model_copy(
            update={
                "max_chars": max(100, policy.max_chars - len(prefix)),
                "target_chars": max(50, policy.target_chars - len(prefix)),
            }
        )
    units: list[Block] = []
    for block in part.blocks:
        if limits.fits(block.text, 0, len(block.text)) and len(block.text) <= inner.max_chars:
            units.append(block)
        else:
            for n, (piece, _) in enumerate(split_text(block.text, inner)):
                units.append(Block(piece, block.meta, block.glue if n == 0 else "\n"))
    inner_limits = size_limits(inner)
    current: list[Block] = []
    text = ""
    first = True
    for block in units:
        joined = f"{text}{block.glue}{block.text}" if current else block.text
        if current and inner_limits.within_target(joined, 0, len(joined)):
            current.append(block)
            text = joined
            continue
        if current:
            yield (text if first else prefix + text), current
            first = False
        current, text = [block], block.text
    if current:
        yield (text if first else prefix + text), current


def merge_meta(blocks: list[Block]) -> dict[str, Any]:
    """The location of a run of blocks: ranges for `RANGE_KEYS`, else the one value (or
    the distinct values, in order, when they differ)."""
    merged: dict[str, Any] = {}
    values: dict[str, list[Any]] = {}
    for block in blocks:
        for key, value in block.meta.items():
            values.setdefault(key, []).extend(value if isinstance(value, list) else [value])
    for key, found in values.items():
        if key in RANGE_KEYS:
            merged[f"{key}_start"] = min(found)
            merged[f"{key}_end"] = max(found)
        else:
            distinct = list(dict.fromkeys(found))
            merged[key] = distinct[0] if len(distinct) == 1 else distinct
    return merged
