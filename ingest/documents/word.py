"""DOCX with python-docx (runs in the sandbox): the body in order, paragraphs grouped under
their headings (style `Heading N`, `Title`, or an outline level) into sections with a
`heading_path`, tables as text rows with their position; headers and footers, which are not
part of the body, left out; core properties in the metadata."""

from __future__ import annotations

import io
import re
from typing import Any

import docx
import docx.oxml.parser
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from .extraction import Block, Extracted, ExtractionError, Part, clean_text
from .limits import DocumentLimits
from .safe_xml import harden

harden(docx.oxml.parser)

_HEADING = re.compile(r"heading\s*(\d)$", re.IGNORECASE)
_CORE = (
    "title",
    "author",
    "subject",
    "keywords",
    "category",
    "comments",
    "last_modified_by",
    "language",
    "revision",
    "created",
    "modified",
)


def extract_docx(data: bytes, limits: DocumentLimits) -> Extracted:
    try:
        document = docx.Document(io.BytesIO(data))
    except (KeyError, ValueError) as exc:
        raise ExtractionError("corrupt", f"not a readable Word document: {exc}") from exc
    parts = [Part(heading_path=[])]
    stack: list[tuple[int, str]] = []
    paragraphs = tables = 0
    first_title: str | None = None
    levels = _StyleLevels(document)
    for element in document.element.body.iterchildren():
        if element.tag == qn("w:p"):
            paragraph = Paragraph(element, document)
            text = clean_text(paragraph.text).strip()
            if not text:
                continue
            paragraphs += 1
            level = _heading_level(element, levels)
            if level is not None:
                stack = [(lvl, title) for lvl, title in stack if lvl < level]
                stack.append((level, " ".join(text.split())))
                parts.append(Part(heading_path=[title for _, title in stack]))
                if level == 0 and first_title is None:
                    first_title = " ".join(text.split())
            parts[-1].blocks.append(Block(text, {"paragraph": paragraphs}))
        elif element.tag == qn("w:tbl"):
            tables += 1
            rows = _table_rows(Table(element, document))
            for n, row in enumerate(rows):
                meta = {"table": tables, "table_row": n + 1, "after_paragraph": paragraphs}
                parts[-1].blocks.append(Block(row, meta, "\n\n" if n == 0 else "\n"))
    metadata = _core(document)
    metadata.update(paragraph_count=paragraphs, table_count=tables)
    return Extracted(
        title=metadata.get("title") or first_title,
        metadata=metadata,
        parts=[part for part in parts if part.blocks],
    )


class _StyleLevels:
    """Paragraph style id -> heading level (0 for Title, N for Heading N, also through a
    style based on one), worked out once per style actually used: python-docx's own style
    lookup scans every style of the document for every paragraph."""

    def __init__(self, document: Any) -> None:
        self._styles = {s.styleId: s for s in document.styles.element.style_lst if s.styleId}
        self._known: dict[str | None, int | None] = {}
        default = next((s for s in self._styles.values() if s.type == WD_STYLE_TYPE.PARAGRAPH
                        and s.default), None)  # fmt: skip
        self._default = default.styleId if default is not None else None

    def of(self, style_id: str | None) -> int | None:
        style_id = style_id or self._default
        if style_id not in self._known:
            self._known[style_id] = self._level(style_id, 0)
        return self._known[style_id]

    def _level(self, style_id: str | None, depth: int) -> int | None:
        style = self._styles.get(style_id) if style_id is not None else None
        if style is None or depth > 5:
            return None
        name = (style.name_val or "").strip()
        if name.lower() == "title":
            return 0
        match = _HEADING.match(name)
        if match:
            return int(match.group(1))
        return self._level(style.basedOn_val, depth + 1)


def _heading_level(element: Any, levels: _StyleLevels) -> int | None:
    """0 for a Title, N for Heading N (by style, or by a paragraph outline level); None
    for body text."""
    found = levels.of(element.style)
    if found is not None:
        return found
    outline = element.find(f"{qn('w:pPr')}/{qn('w:outlineLvl')}")
    if outline is not None:
        value = outline.get(qn("w:val"))
        if value is not None and value.isdigit() and int(value) < 9:
            return int(value) + 1
    return None


def _table_rows(table: Table) -> list[str]:
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell repeats: once is enough
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(clean_text(cell.text).split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def _core(document: Any) -> dict[str, Any]:
    props = document.core_properties
    metadata: dict[str, Any] = {}
    for name in _CORE:
        value = getattr(props, name, None)
        if value in (None, ""):
            continue
        metadata[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return metadata
