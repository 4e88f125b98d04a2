"""HTML, first version on the standard library parser: page chrome dropped,
text grouped under its h1-h6 headings, one chunk per section.

The document text is the extracted text (a heading, then its paragraphs, separated
by blank lines); chunk line numbers are lines of that text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, ClassVar

from ..chunking import ChunkList, LineIndex, split_text
from ..content_types import HTML
from ..models import FetchedContent, ProcessedDocument
from ._common import build_document, fail, require_text
from .base import ChunkPolicy

_SKIP = frozenset(
    {"script", "style", "nav", "header", "footer", "aside", "noscript", "template", "svg"}
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS = frozenset(
    {
        "address", "article", "blockquote", "body", "br", "caption", "dd", "details", "div",
        "dl", "dt", "figcaption", "figure", "form", "hr", "html", "li", "main", "ol", "p",
        "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul",
    }
)  # fmt: skip


@dataclass
class _Section:
    heading_path: list[str]
    heading: str | None = None
    level: int = 0
    blocks: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "\n\n".join([self.heading, *self.blocks] if self.heading else self.blocks)


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections = [_Section([])]
        self.title: list[str] = []
        self.links: dict[str, None] = {}
        self.lang: str | None = None
        self.canonical: str | None = None
        self._headings: list[tuple[int, str]] = []
        self._skip = 0
        self._pre = 0
        self._in_title = False
        self._heading_level = 0
        self._heading: list[str] = []
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "html" and attr.get("lang"):
            self.lang = attr["lang"].strip()
        elif tag == "link" and "canonical" in attr.get("rel", "").lower().split():
            self.canonical = attr.get("href", "").strip() or self.canonical
        if tag in _SKIP:
            self._flush()
            self._skip += 1
        if self._skip:
            return
        if tag == "title":
            self._in_title = True
        elif tag == "a" and attr.get("href", "").strip():
            self.links[attr["href"].strip()] = None
        elif tag in _HEADINGS:
            self._flush()
            self._close_heading()
            self._heading_level = int(tag[1])
        elif tag in _BLOCKS:
            self._flush()
            if tag == "pre":
                self._pre += 1
        elif tag in ("td", "th"):
            self._buffer.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self._skip:
            self._skip -= 1
            return
        if self._skip:
            return
        if tag == "title":
            self._in_title = False
        elif tag in _HEADINGS:
            self._close_heading()
        elif tag in _BLOCKS:
            self._flush()
            if tag == "pre" and self._pre:
                self._pre -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title.append(data)
        elif self._heading_level:
            self._heading.append(data)
        else:
            self._buffer.append(data)

    def close(self) -> None:
        super().close()
        self._close_heading()
        self._flush()

    def _flush(self) -> None:
        raw = "".join(self._buffer)
        self._buffer.clear()
        if self._pre:
            text = "\n".join(line.rstrip() for line in raw.split("\n")).strip("\n")
            text = text if text.strip() else ""
        else:
            text = " ".join(raw.split())
        if text:
            self.sections[-1].blocks.append(text)

    def _close_heading(self) -> None:
        level, self._heading_level = self._heading_level, 0
        text = " ".join("".join(self._heading).split())
        self._heading.clear()
        if not level or not text:
            return
        self._headings = [(lvl, h) for lvl, h in self._headings if lvl < level]
        self._headings.append((level, text))
        self.sections.append(_Section([h for _, h in self._headings], text, level))


class HtmlProcessor:
    name: ClassVar[str] = "html"
    version: ClassVar[str] = "1"
    content_types: ClassVar[tuple[str, ...]] = (HTML,)

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument:
        parser = _Extractor()
        try:
            parser.feed(require_text(content, self.name))
            parser.close()
        except (AssertionError, ValueError, RecursionError) as exc:
            raise fail(content, self.name, f"cannot parse HTML: {exc!r}") from exc

        sections = [(s, s.text()) for s in parser.sections]
        sections = [(s, t) for s, t in sections if t]
        text = "\n\n".join(t for _, t in sections)
        index = LineIndex(text)
        chunks = ChunkList(content.item.uri, content.content_type)
        offset = 0
        for section, section_text in sections:
            if len(section_text) <= policy.max_chars:
                pieces = [(section_text, 0)]
            else:
                pieces = split_text(section_text, policy)
            for piece, start in pieces:
                start_line, end_line = index.lines_of(offset + start, offset + start + len(piece))
                chunks.add(
                    piece,
                    heading_path=section.heading_path,
                    start_line=start_line,
                    end_line=end_line,
                )
            offset += len(section_text) + 2

        title = " ".join("".join(parser.title).split())
        first_h1 = next((s.heading for s in parser.sections if s.level == 1), None)
        metadata: dict[str, Any] = {
            "links": list(parser.links),
            "lang": parser.lang,
            "canonical": parser.canonical,
            "headings": [{"level": s.level, "text": s.heading} for s in parser.sections[1:]],
        }
        return build_document(
            content, text=text, title=title or first_h1, metadata=metadata, chunks=chunks.chunks
        )
