"""Stable chunk ids, and the list that numbers the chunks of one document and gives
each its id."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from .models import Chunk

if TYPE_CHECKING:
    from hashlib import _Hash

_SEP = "\x1f"


def chunk_id(uri: str, location: str, text: str) -> str:
    """Stable id: the same text at the same place of the same document gives the same id."""
    return _chunk_id(_document_hasher(uri), location, text)


def _document_hasher(uri: str) -> _Hash:
    return hashlib.sha256(f"{uri}\0".encode("utf-8", "surrogatepass"))


def _chunk_id(document: _Hash, location: str, text: str) -> str:
    digest = document.copy()
    digest.update(f"{location}\0{text}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def location_key(location: dict[str, Any]) -> str:
    """A fixed-format string of a chunk's location (`key=value` by key, list items
    joined), the part of its id that says where it is."""
    values, template = _key_layout(tuple(location))
    found = values(location)
    if _PLAIN_VALUES.issuperset(map(type, found)):
        return template.format(*found)
    return template.format(
        *[_SEP.join(map(str, v)) if isinstance(v, list | tuple) else v for v in found]
    )


# Values formatted as they are, with no check each (a heading path, a list, is joined).
_PLAIN_VALUES = frozenset({str, int, float, bool, type(None)})


@functools.lru_cache(maxsize=64)
def _key_layout(keys: tuple[str, ...]) -> tuple[Callable[[dict[str, Any]], tuple[Any, ...]], str]:
    """How to read a location with these keys: its values in key order, and the
    `key={}` template they fill. A chunk list adds many locations with the same keys."""
    ordered = sorted(keys)
    escaped = [key.replace("{", "{{").replace("}", "}}") for key in ordered]
    template = "\x1e".join(f"{key}={{}}" for key in escaped)
    if len(ordered) >= 2:
        return itemgetter(*ordered), template  # a tuple, in C
    return (lambda location: tuple(location[key] for key in ordered)), template


class ChunkList:
    """Collects the chunks of one document, numbering them and giving each its id."""

    def __init__(self, uri: str, content_type: str) -> None:
        self.uri = uri
        self.content_type = content_type
        self.chunks: list[Chunk] = []
        self._seen: dict[str, int] = {}
        self._document = _document_hasher(uri)

    def add(self, text: str, extra: dict[str, Any] | None = None, **location: Any) -> None:
        """Add a chunk; `location` (lines, heading path, symbol...) goes into its id,
        `extra` metadata does not."""
        if not text or text.isspace():
            return
        where = location_key(location)
        id_ = _chunk_id(self._document, where, text)
        repeat = self._seen.get(id_, 0) + 1
        self._seen[id_] = repeat
        if repeat > 1:  # the same text again at the same place (one long line): number it
            id_ = _chunk_id(self._document, f"{where}#{repeat}", text)
        metadata: dict[str, Any] = {"chunk_id": id_, "content_type": self.content_type, **location}
        if extra:
            metadata.update(extra)
        self.chunks.append(Chunk(seq=len(self.chunks), text=text, metadata=metadata))
