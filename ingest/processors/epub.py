"""EPUB: chapters in spine order, each through the HTML main-content path; chunk metadata
carries `chapter` (1-based spine position), `chapter_title` and the heading path."""

from __future__ import annotations

from typing import ClassVar

from ..content_types import EPUB
from ._documents import DocumentProcessor


class EpubProcessor(DocumentProcessor):
    name: ClassVar[str] = "epub"
    version: ClassVar[str] = "1"
    content_types: ClassVar[tuple[str, ...]] = (EPUB,)
    kind: ClassVar[str] = "epub"
