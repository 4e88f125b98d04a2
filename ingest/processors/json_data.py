"""JSON: parsed, rendered with indentation, chunked in line windows of the rendering."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from ..chunking import ChunkList, line_windows
from ..content_types import JSON
from ..models import FetchedContent, ProcessedDocument
from ._common import build_document, fail, require_text, short_title
from .base import ChunkPolicy

MAX_KEYS = 100


class JsonProcessor:
    name: ClassVar[str] = "json"
    version: ClassVar[str] = "2"  # 2: fixed-format chunk ids
    content_types: ClassVar[tuple[str, ...]] = (JSON,)

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument:
        raw = require_text(content, self.name)
        try:
            data = json.loads(raw)
            text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)
        except RecursionError as exc:
            raise fail(content, self.name, "JSON is nested too deeply") from exc
        except ValueError as exc:  # JSONDecodeError, and over-long integers
            raise fail(content, self.name, f"invalid JSON: {exc}") from exc
        metadata: dict[str, Any] = {"top_level_type": _type_name(data)}
        title = None
        if isinstance(data, dict):
            metadata["keys"] = [str(key) for key in list(data)[:MAX_KEYS]]
            metadata["key_count"] = len(data)
            if isinstance(data.get("title"), str):
                title = short_title(data["title"])
        elif isinstance(data, list):
            metadata["length"] = len(data)
        chunks = ChunkList(content.item.uri, content.content_type)
        for piece, start_line, end_line in line_windows(text.split("\n"), policy):
            chunks.add(piece, start_line=start_line, end_line=end_line)
        return build_document(
            content, text=text, title=title, metadata=metadata, chunks=chunks.chunks
        )


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "null"
