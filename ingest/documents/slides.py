"""PPTX with python-pptx (runs in the sandbox): one section per slide holding its title,
the text of its shapes in order (groups opened, tables as rows) and its speaker notes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pptx
import pptx.oxml
from pptx.enum.shapes import MSO_SHAPE_TYPE

from .extraction import Block, Extracted, Part, clean_text
from .limits import DocumentLimits
from .safe_xml import harden

harden(pptx.oxml)


def extract_pptx(data: bytes, limits: DocumentLimits) -> Extracted:
    presentation = pptx.Presentation(io.BytesIO(data))
    parts: list[Part] = []
    for number, slide in enumerate(presentation.slides, start=1):
        title_shape = slide.shapes.title
        title = " ".join(clean_text(title_shape.text).split()) if title_shape is not None else ""
        part = Part(
            heading_path=[title] if title else [],
            meta={"slide": number, "slide_title": title or None},
        )
        if title:
            part.blocks.append(Block(title))
        title_id = title_shape.shape_id if title_shape is not None else None
        for text in _shape_texts(slide.shapes, title_id):
            part.blocks.append(Block(text))
        if slide.has_notes_slide:
            frame = slide.notes_slide.notes_text_frame
            notes = clean_text(frame.text).strip() if frame is not None else ""
            if notes:
                part.blocks.append(Block(f"Notes: {notes}", {"notes": True}))
        if part.blocks:
            parts.append(part)
    props = presentation.core_properties
    metadata: dict[str, Any] = {"slide_count": len(presentation.slides)}
    for name in ("title", "author", "subject", "keywords", "created", "modified"):
        value = getattr(props, name, None)
        if value not in (None, ""):
            metadata[name] = value.isoformat() if hasattr(value, "isoformat") else value
    first_title = next((p.meta["slide_title"] for p in parts if p.meta["slide_title"]), None)
    return Extracted(title=metadata.get("title") or first_title, metadata=metadata, parts=parts)


def _shape_texts(shapes: Any, skip_id: int | None) -> Iterator[str]:
    for shape in shapes:
        if shape.shape_id == skip_id:
            continue
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shape_texts(shape.shapes, skip_id)
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = [
                " | ".join(" ".join(clean_text(cell.text).split()) for cell in row.cells)
                for row in shape.table.rows
            ]
            text = "\n".join(row for row in rows if row.strip(" |"))
            if text:
                yield text
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            text = clean_text(shape.text_frame.text).strip()
            if text:
                yield text
