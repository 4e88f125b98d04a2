"""Format-neutral chunking: stable chunk ids, splitting text at paragraph, line,
sentence and word boundaries, line windows, and offset-to-line arithmetic."""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .models import Chunk

if TYPE_CHECKING:  # processors import this module; keep the import one-way at runtime
    from .processors.base import ChunkPolicy

Span = tuple[int, int]

_SENTENCE_END = re.compile(r"([.!?\u3002\uff01\uff1f]+[\"'\u201d\u2019)\]]*)\s+")
_WORD = re.compile(r"\S+")


def chunk_id(uri: str, location: str, text: str) -> str:
    """Stable id: the same text at the same place of the same document gives the same id."""
    raw = f"{uri}\0{location}\0{text}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()[:32]


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def clean_lines(text: str) -> str:
    """Newlines normalised to `\\n`, trailing whitespace of every line removed."""
    return "\n".join(line.rstrip() for line in normalize_newlines(text).split("\n"))


def is_blank(line: str) -> bool:
    return not line or line.isspace()


class LineIndex:
    """Maps character offsets of a text to 1-based line numbers."""

    def __init__(self, text: str, first_line: int = 1) -> None:
        self._newlines = [m.start() for m in re.finditer("\n", text)]
        self._first = first_line

    def line_of(self, offset: int) -> int:
        return self._first + bisect.bisect_left(self._newlines, offset)

    def lines_of(self, start: int, end: int) -> tuple[int, int]:
        """Inclusive line range of the non-empty span `text[start:end]`."""
        return self.line_of(start), self.line_of(max(start, end - 1))


def split_text(text: str, policy: ChunkPolicy) -> list[tuple[str, int]]:
    """Split `text` into pieces of at most `policy.max_chars`, as `(piece, start_offset)`.

    Paragraphs (runs of non-blank lines) are packed up to the target size; a
    paragraph over the maximum is split at lines, then sentences, then
    whitespace, then hard. Every piece is a slice of `text` and together they
    hold every non-whitespace character exactly once, in order.
    """
    return pack_spans(text, _paragraphs(text, 0, len(text)), policy)


def pack_spans(text: str, spans: Sequence[Span], policy: ChunkPolicy) -> list[tuple[str, int]]:
    """Pack consecutive spans of `text` (structural units: paragraphs, Markdown
    blocks...) up to the target size, splitting a span over the maximum like
    `split_text` does; returns `(piece, start_offset)`."""
    max_chars = policy.max_chars
    target = min(policy.target_chars, max_chars)
    units: list[Span] = []
    for span in spans:
        units.extend(_refine(text, span, 0, max_chars))
    return [(text[start:end], start) for start, end in _pack(units, target)]


def line_windows(
    lines: Sequence[str], policy: ChunkPolicy, first_line: int = 1
) -> list[tuple[str, int, int]]:
    """Windows of whole lines up to the target size, broken preferably at blank
    lines, as `(text, start_line, end_line)`; a line over the maximum is split."""
    text = "\n".join(lines)
    index = LineIndex(text, first_line)
    target = min(policy.target_chars, policy.max_chars)
    units: list[Span] = []
    for start, end in _paragraphs(text, 0, len(text)):
        if end - start <= target:
            units.append((start, end))
            continue
        for line in _lines(text, start, end):
            units.extend(_refine(text, line, _SENTENCE_LEVEL, policy.max_chars))
    windows = []
    for start, end in _pack(units, target):
        start_line, end_line = index.lines_of(start, end)
        windows.append((text[start:end], start_line, end_line))
    return windows


class ChunkList:
    """Collects the chunks of one document, numbering them and giving each its id."""

    def __init__(self, uri: str, content_type: str) -> None:
        self.uri = uri
        self.content_type = content_type
        self.chunks: list[Chunk] = []
        self._seen: dict[str, int] = {}

    def add(self, text: str, extra: dict[str, Any] | None = None, **location: Any) -> None:
        """Add a chunk; `location` (lines, heading path, symbol...) goes into its id,
        `extra` metadata does not."""
        if is_blank(text):
            return
        where = json.dumps(location, sort_keys=True, ensure_ascii=False, default=str)
        id_ = chunk_id(self.uri, where, text)
        repeat = self._seen.get(id_, 0) + 1
        self._seen[id_] = repeat
        if repeat > 1:  # the same text again at the same place (one long line): number it
            id_ = chunk_id(self.uri, f"{where}#{repeat}", text)
        metadata: dict[str, Any] = {
            "chunk_id": id_,
            "content_type": self.content_type,
            **location,
            **(extra or {}),
        }
        self.chunks.append(Chunk(seq=len(self.chunks), text=text, metadata=metadata))


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _paragraphs(text: str, start: int, end: int) -> list[Span]:
    """Runs of non-blank lines, from the start of their first line (indentation kept)."""
    spans: list[Span] = []
    para_start: int | None = None
    para_end = start
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        line_end = end if nl < 0 else nl
        if is_blank(text[pos:line_end]):
            if para_start is not None:
                spans.append((para_start, para_end))
                para_start = None
        else:
            if para_start is None:
                para_start = pos
            para_end = _trim(text, pos, line_end)[1]
        pos = line_end + 1
    if para_start is not None:
        spans.append((para_start, para_end))
    return spans


def _lines(text: str, start: int, end: int) -> list[Span]:
    spans: list[Span] = []
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        line_end = end if nl < 0 else nl
        trimmed_end = _trim(text, pos, line_end)[1]
        if trimmed_end > pos:
            spans.append((pos, trimmed_end))
        pos = line_end + 1
    return spans


def _sentences(text: str, start: int, end: int) -> list[Span]:
    spans: list[Span] = []
    pos = start
    for match in _SENTENCE_END.finditer(text, start, end):
        spans.append(_trim(text, pos, match.end(1)))
        pos = match.end()
    spans.append(_trim(text, pos, end))
    return [span for span in spans if span[1] > span[0]]


def _words(text: str, start: int, end: int) -> list[Span]:
    return [match.span() for match in _WORD.finditer(text, start, end)]


_LEVELS: tuple[Callable[[str, int, int], list[Span]], ...] = (
    _paragraphs,
    _lines,
    _sentences,
    _words,
)
_SENTENCE_LEVEL = _LEVELS.index(_sentences)


def _refine(text: str, span: Span, level: int, max_chars: int) -> list[Span]:
    start, end = span
    if end - start <= max_chars:
        return [span]
    if level >= len(_LEVELS):
        return [(pos, min(pos + max_chars, end)) for pos in range(start, end, max_chars)]
    parts = _LEVELS[level](text, start, end)
    if parts == [span]:
        return _refine(text, span, level + 1, max_chars)
    refined: list[Span] = []
    for part in parts:
        refined.extend(_refine(text, part, level + 1, max_chars))
    return refined


def _pack(units: Sequence[Span], target: int) -> list[Span]:
    """Merge consecutive units while the merged extent stays within `target`."""
    packed: list[Span] = []
    for start, end in units:
        if packed and end - packed[-1][0] <= target:
            packed[-1] = (packed[-1][0], end)
        else:
            packed.append((start, end))
    return packed
