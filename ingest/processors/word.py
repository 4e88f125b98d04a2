"""DOCX: sections by heading style with their `heading_path` (like Markdown), paragraph
ranges, tables as text rows with their number; core properties in the metadata."""

from __future__ import annotations

from typing import ClassVar

from ..content_types import DOCX
from ._documents import DocumentProcessor


class DocxProcessor(DocumentProcessor):
    name: ClassVar[str] = "docx"
    version: ClassVar[str] = "1"
    content_types: ClassVar[tuple[str, ...]] = (DOCX,)
    kind: ClassVar[str] = "docx"
