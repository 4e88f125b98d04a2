"""Markdown: YAML front matter, title, links and images, one chunk per heading section.

The document text is the Markdown source after the front matter; chunk line
numbers are lines of the source file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from ..chunking import ChunkList, LineIndex, Span, normalize_newlines, pack_spans, size_limits
from ..content_types import MARKDOWN
from ..models import FetchedContent, ProcessedDocument
from ..yaml_data import load_yaml
from ._common import build_document, fail, jsonable, require_text
from .base import ChunkPolicy

_FRONT_MATTER_NODES = 10_000


@dataclass
class _Section:
    heading_path: list[str]
    start_line: int  # 0-based, like token.map
    block_starts: list[int] = field(default_factory=list)


class MarkdownProcessor:
    name: ClassVar[str] = "markdown"
    version: ClassVar[str] = "2"
    content_types: ClassVar[tuple[str, ...]] = (MARKDOWN,)

    def __init__(self) -> None:
        self._md = MarkdownIt("commonmark").enable("table").use(front_matter_plugin)

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument:
        source = normalize_newlines(require_text(content, self.name))
        try:
            tokens = self._md.parse(source)
        except (RecursionError, ValueError) as exc:
            raise fail(content, self.name, f"cannot parse Markdown: {exc!r}") from exc

        metadata: dict[str, Any] = {}
        warnings: list[str] = []
        body_start = 0
        if tokens and tokens[0].type == "front_matter" and tokens[0].map:
            body_start = tokens[0].map[1]
            front_matter = _parse_front_matter(tokens[0].content, warnings)
            if front_matter is not None:
                metadata["front_matter"] = front_matter

        lines = source.split("\n")
        sections = _sections(tokens, body_start)
        headings: list[dict[str, Any]] = [
            {"level": int(tok.tag[1:]), "text": _inline_text(tokens[i + 1]), "line": tok.map[0] + 1}
            for i, tok in enumerate(tokens)
            if tok.type == "heading_open" and tok.level == 0 and tok.map
        ]
        links, images = _links_and_images(tokens)
        metadata.update(headings=headings, links=links, images=images)
        if warnings:
            metadata["warnings"] = warnings

        chunks = ChunkList(content.item.uri, content.content_type)
        _chunk_sections(source, lines, sections, policy, chunks)
        front_title = metadata.get("front_matter", {}).get("title")
        title = " ".join(front_title.split()) if isinstance(front_title, str) else ""
        if not title:
            title = next((h["text"] for h in headings if h["level"] == 1 and h["text"]), "")
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


def _sections(tokens: Sequence[Token], body_start: int) -> list[_Section]:
    """Top-level blocks grouped under their heading; text before the first heading
    is a section with an empty heading path."""
    sections = [_Section([], body_start)]
    stack: list[tuple[int, str]] = []
    for i, token in enumerate(tokens):
        if token.level != 0 or token.map is None or token.type == "front_matter":
            continue
        start = token.map[0]
        if token.type == "heading_open":
            level = int(token.tag[1:])
            stack = [(lvl, text) for lvl, text in stack if lvl < level]
            stack.append((level, _inline_text(tokens[i + 1])))
            sections.append(_Section([text for _, text in stack], start))
        sections[-1].block_starts.append(start)
    return sections


def _chunk_sections(
    source: str,
    lines: list[str],
    sections: list[_Section],
    policy: ChunkPolicy,
    chunks: ChunkList,
) -> None:
    line_starts = [0]
    for line in lines:
        line_starts.append(line_starts[-1] + len(line) + 1)
    index = LineIndex(source)
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


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline", "image"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    text = " ".join("".join(parts).split())
    return text or " ".join(token.content.split())


def _links_and_images(tokens: Iterable[Token]) -> tuple[list[str], list[str]]:
    links: dict[str, None] = {}
    images: dict[str, None] = {}
    pending = list(tokens)[::-1]
    while pending:
        token = pending.pop()
        if token.type == "link_open":
            href = token.attrGet("href")
            if isinstance(href, str) and href:
                links[href] = None
        elif token.type == "image":
            src = token.attrGet("src")
            if isinstance(src, str) and src:
                images[src] = None
        pending.extend(reversed(token.children or ()))
    return list(links), list(images)
