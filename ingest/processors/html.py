"""HTML: the page's main content (trafilatura: navigation and boilerplate dropped),
text grouped under its h1-h6 headings like Markdown sections, one chunk per section;
title, language, canonical URL and every link of the page in metadata.

The document text is the extracted text (a heading, then its blocks, separated by
blank lines); chunk line numbers are lines of that text.
"""

from __future__ import annotations

from typing import Any, ClassVar

from lxml import etree

from ..chunking import ChunkList, LineIndex, Span, fits, pack_spans
from ..content_types import HTML
from ..models import FetchedContent, ProcessedDocument
from ._common import build_document, fail, require_text
from .base import ChunkPolicy
from .html_content import Page, Section, TooManyAttributesError, parse, read_page


class HtmlProcessor:
    name: ClassVar[str] = "html"
    version: ClassVar[str] = "3"  # 3: fixed-format chunk ids; 2: trafilatura main content
    content_types: ClassVar[tuple[str, ...]] = (HTML,)

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument:
        source = require_text(content, self.name)
        try:
            tree = parse(source)
            page = Page() if tree is None else read_page(tree, content.item.uri, len(source))
        except TooManyAttributesError as exc:
            raise fail(content, self.name, str(exc)) from exc
        except (etree.LxmlError, ValueError, TypeError, AssertionError, RecursionError) as exc:
            raise fail(content, self.name, f"cannot read HTML: {exc!r}") from exc

        sections = [(s, _section_text(s)) for s in page.sections]
        sections = [(s, t) for s, t in sections if t]
        text = "\n\n".join(t for _, t in sections)
        index = LineIndex(text)
        chunks = ChunkList(content.item.uri, content.content_type)
        offset = 0
        for section, section_text in sections:
            if fits(section_text, policy):
                pieces = [(section_text, 0)]
            else:
                pieces = pack_spans(section_text, _block_spans(section), policy)
            for piece, start in pieces:
                start_line, end_line = index.lines_of(offset + start, offset + start + len(piece))
                chunks.add(
                    piece,
                    heading_path=section.heading_path,
                    start_line=start_line,
                    end_line=end_line,
                )
            offset += len(section_text) + 2

        headings = [s for s in page.sections if s.heading]
        first_h1 = next((s.heading for s in headings if s.level == 1), None)
        metadata: dict[str, Any] = {
            "links": page.links,
            "lang": page.lang,
            "canonical": page.canonical,
            "headings": [{"level": s.level, "text": s.heading} for s in headings],
        }
        return build_document(
            content,
            text=text,
            title=page.title or first_h1,
            metadata=metadata,
            chunks=chunks.chunks,
        )


def _parts(section: Section) -> list[str]:
    return [section.heading, *section.blocks] if section.heading else section.blocks


def _section_text(section: Section) -> str:
    return "\n\n".join(_parts(section))


def _block_spans(section: Section) -> list[Span]:
    """Offsets of the heading and each block in the section text: the units that
    are packed into chunks, so a table or code block stays whole when it fits."""
    spans: list[Span] = []
    offset = 0
    for part in _parts(section):
        spans.append((offset, offset + len(part)))
        offset += len(part) + 2
    return spans
