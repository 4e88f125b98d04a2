"""PPTX: one section per slide (title, text frames in order, speaker notes); chunk
metadata carries `slide` and `slide_title`."""

from __future__ import annotations

from typing import ClassVar

from ..content_types import PPTX
from ._documents import DocumentProcessor


class PptxProcessor(DocumentProcessor):
    name: ClassVar[str] = "pptx"
    version: ClassVar[str] = "1"
    content_types: ClassVar[tuple[str, ...]] = (PPTX,)
    kind: ClassVar[str] = "pptx"
