"""Markdown: YAML front matter, title, links and images, one chunk per heading section.

The document text is the Markdown source after the front matter; chunk line
numbers are lines of the source file. Parsing is pulldown-cmark's (through
pyromark): CommonMark with tables, events with source ranges in UTF-8 bytes.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyromark
import yaml

from ..chunking import (
    ChunkList,
    LineIndex,
    Span,
    line_starts,
    normalize_newlines,
    pack_spans,
    size_limits,
)
from ..content_types import MARKDOWN
from ..front_matter import find_front_matter
from ..models import FetchedContent, ProcessedDocument
from ..yaml_data import load_yaml
from ._common import build_document, fail, jsonable, require_text
from .base import ChunkPolicy

_FRONT_MATTER_NODES = 10_000
_OPTIONS = pyromark.Options.ENABLE_TABLES
_BREAKS = frozenset({"SoftBreak", "HardBreak"})
# The schemes markdown-it (and browsers' sanitizers) refuse as link targets.
_UNSAFE_URL = re.compile(r"^\s*(?:javascript|vbscript|file|data):", re.IGNORECASE)
_SAFE_DATA_IMAGE = re.compile(r"^\s*data:image/(?:gif|png|jpeg|webp);", re.IGNORECASE)
# What a URL may hold as it is; everything else is percent-encoded (UTF-8), like
# markdown-it's normalizeLink does, so listed links are valid URLs.
_URL_UNSAFE_CHARS = re.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9;/?:@&=+$,\-_.!~*'()#%\[\]]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ATX_MARKS = re.compile(r"^[ \t]*#+|[ \t]#+[ \t]*$")


@dataclass
class _Section:
    heading_path: list[str]
    start_line: int  # 0-based
    block_starts: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Heading:
    level: int
    text: str
    line: int  # 0-based


class MarkdownProcessor:
    name: ClassVar[str] = "markdown"
    version: ClassVar[str] = "3"  # 3: pulldown-cmark, fixed-format chunk ids
    content_types: ClassVar[tuple[str, ...]] = (MARKDOWN,)

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument:
        source = normalize_newlines(require_text(content, self.name))
        metadata: dict[str, Any] = {}
        warnings: list[str] = []
        front = find_front_matter(source)
        body_start, body_offset = 0, 0
        if front is not None:
            body_start, body_offset = front.lines, front.end
            front_matter = _parse_front_matter(front.raw, warnings)
            if front_matter is not None:
                metadata["front_matter"] = front_matter
        try:
            outline = _outline(source[body_offset:], body_start)
        except (ValueError, UnicodeError) as exc:
            raise fail(content, self.name, f"cannot parse Markdown: {exc!r}") from exc

        lines = source.split("\n")
        headings = [
            {"level": h.level, "text": h.text, "line": h.line + 1} for h in outline.headings
        ]
        metadata.update(headings=headings, links=outline.links, images=outline.images)
        if warnings:
            metadata["warnings"] = warnings

        chunks = ChunkList(content.item.uri, content.content_type)
        _chunk_sections(source, lines, _sections(outline, body_start), policy, chunks)
        front_title = metadata.get("front_matter", {}).get("title")
        title = " ".join(front_title.split()) if isinstance(front_title, str) else ""
        if not title:
            title = next((h.text for h in outline.headings if h.level == 1 and h.text), "")
        return build_document(
            content,
            text="\n".join(lines[body_start:]).rstrip(),
            title=title or None,
            metadata=metadata,
            chunks=chunks.chunks,
        )


def _parse_front_matter(raw: str, warnings: list[str]) -> dict[str, Any] | None:
    try:
        data = load_yaml(raw)
        if data is None:
            return {}
        if not isinstance(data, dict):
            warnings.append(f"front matter is not a mapping but {type(data).__name__}; ignored")
            return None
        result: dict[str, Any] = jsonable(data, [_FRONT_MATTER_NODES])
        return result
    except yaml.MarkedYAMLError as exc:
        where = f" at line {exc.problem_mark.line + 2}" if exc.problem_mark else ""
        warnings.append(f"invalid front matter, ignored: {exc.problem or exc.context}{where}")
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        warnings.append(f"invalid front matter, ignored: {type(exc).__name__}: {exc}")
    return None


@dataclass
class _Outline:
    """What the parse gives: top-level blocks (0-based lines, a heading or None),
    headings, and link and image targets in document order, each once."""

    blocks: list[tuple[int, _Heading | None]]
    headings: list[_Heading]
    links: list[str]
    images: list[str]


def _outline(body: str, first_line: int) -> _Outline:
    """One pass over the parser's events. Offsets are UTF-8 bytes of `body`, mapped
    to lines of the source (`body` starts at line `first_line`) by bisecting the
    byte offsets of line starts."""
    text: str | bytes = body
    if body.isascii():
        starts = line_starts(body.split("\n"))
    else:
        text = body.encode("utf-8", "surrogatepass")
        starts = line_starts(text.split(b"\n"))  # of bytes: UTF-8 offsets
        # Lone surrogates cannot cross into Rust; U+FFFD has the same UTF-8 length.
        body = _SURROGATE.sub("\ufffd", body)

    def line_of(offset: int) -> int:
        return first_line + bisect.bisect_right(starts, offset) - 1

    blocks: list[tuple[int, _Heading | None]] = []
    headings: list[_Heading] = []
    links: dict[str, None] = {}
    images: dict[str, None] = {}
    depth = 0
    parts: list[str] | None = None  # the text of the top-level heading being read
    level = heading_start = heading_end = 0
    # Typed loosely on purpose: a typed match per event costs more than the parse.
    events: Any = pyromark.events_with_range(body, options=_OPTIONS, merge_text=True)
    for event, where in events:
        if event.__class__ is str:  # SoftBreak, HardBreak, Rule
            if depth == 0:
                if event == "Rule":
                    blocks.append((line_of(where["start"]), None))
            elif parts is not None and event in _BREAKS:
                parts.append(" ")
            continue
        start = event.get("Start")
        if start is not None:
            if start.__class__ is not dict:  # Paragraph, Emphasis, Item...
                if depth == 0:
                    blocks.append((line_of(where["start"]), None))
            elif depth == 0 and "Heading" in start:
                parts = []
                level = int(start["Heading"]["level"][1:])
                heading_start, heading_end = where["start"], where["end"]
            elif depth == 0:
                blocks.append((line_of(where["start"]), None))
            elif "Link" in start:
                link = start["Link"]
                url = link["dest_url"]
                _add_url(links, f"mailto:{url}" if link["link_type"] == "Email" else url)
            elif "Image" in start:
                _add_url(images, start["Image"]["dest_url"], image=True)
            depth += 1
        elif "End" in event:
            depth -= 1
            if depth == 0 and parts is not None:
                words = " ".join("".join(parts).split())
                if not words:
                    words = _raw_heading(text, heading_start, heading_end)
                heading = _Heading(level, words, line_of(heading_start))
                blocks.append((heading.line, heading))
                headings.append(heading)
                parts = None
        elif parts is not None:
            piece = event.get("Text") or event.get("Code")
            if piece:
                parts.append(piece)
    return _Outline(blocks, headings, list(links), list(images))


def _add_url(seen: dict[str, None], url: str, *, image: bool = False) -> None:
    if not url or (_UNSAFE_URL.match(url) and not (image and _SAFE_DATA_IMAGE.match(url))):
        return
    seen[_URL_UNSAFE_CHARS.sub(_percent_encode, url)] = None


def _percent_encode(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8", "surrogatepass"))


def _raw_heading(text: str | bytes, start: int, end: int) -> str:
    """The heading's source without its markers, for a heading that has no plain
    text (only inline HTML, say)."""
    raw = text[start:end]
    source = raw.decode("utf-8", "surrogatepass") if isinstance(raw, bytes) else raw
    if source.lstrip(" \t").startswith("#"):
        source = _ATX_MARKS.sub("", source)
    else:  # setext: the underline goes
        source = source.rstrip("\n").rsplit("\n", 1)[0]
    return " ".join(source.split())


def _sections(outline: _Outline, body_start: int) -> list[_Section]:
    """Top-level blocks grouped under their heading; text before the first heading
    is a section with an empty heading path."""
    sections = [_Section([], body_start)]
    stack: list[tuple[int, str]] = []
    for line, heading in outline.blocks:
        if heading is not None:
            stack = [(lvl, text) for lvl, text in stack if lvl < heading.level]
            stack.append((heading.level, heading.text))
            sections.append(_Section([text for _, text in stack], line))
        sections[-1].block_starts.append(line)
    return sections


def _chunk_sections(
    source: str,
    lines: list[str],
    sections: list[_Section],
    policy: ChunkPolicy,
    chunks: ChunkList,
) -> None:
    index = LineIndex.of_lines(lines)
    line_starts = index.starts
    limits = size_limits(policy)

    def span(first: int, stop: int) -> Span:
        start, end = line_starts[first], max(line_starts[first], line_starts[stop] - 1)
        while end > start and source[end - 1].isspace():
            end -= 1
        return start, end

    for n, section in enumerate(sections):
        stop = sections[n + 1].start_line if n + 1 < len(sections) else len(lines)
        whole = span(section.start_line, stop)
        if limits.fits(source, *whole):
            pieces = [(source[whole[0] : whole[1]], whole[0])]
        else:
            starts = sorted({section.start_line, *section.block_starts})
            bounds = [*starts, stop]
            units = [span(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if a < b]
            pieces = pack_spans(source, [u for u in units if u[1] > u[0]], policy)
        for text, start in pieces:
            start_line, end_line = index.lines_of(start, start + len(text))
            chunks.add(
                text,
                heading_path=section.heading_path,
                start_line=start_line,
                end_line=end_line,
            )
