"""PDF: text per page in reading order (pypdfium2, in the sandbox), sections from the
outline with their `heading_path`, and `page_start`/`page_end` (1-based) on every chunk;
title, author, dates and page count from the document info."""

from __future__ import annotations

from typing import ClassVar

from ..content_types import PDF
from ._documents import DocumentProcessor


class PdfProcessor(DocumentProcessor):
    name: ClassVar[str] = "pdf"
    version: ClassVar[str] = "1"
    content_types: ClassVar[tuple[str, ...]] = (PDF,)
    kind: ClassVar[str] = "pdf"
