"""XML: parsed safely (no entity expansion, no external resources); the text of
its elements, one line each, chunked like plain text."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - only for the types and ParseError
from typing import Any, ClassVar

import defusedxml
import defusedxml.ElementTree as DefusedET

from ..chunking import ChunkList, LineIndex, split_text
from ..content_types import XML
from ..models import FetchedContent, ProcessedDocument
from ._common import build_document, fail, short_title
from .base import ChunkPolicy


class XmlProcessor:
    name: ClassVar[str] = "xml"
    version: ClassVar[str] = "2"  # 2: fixed-format chunk ids
    content_types: ClassVar[tuple[str, ...]] = (XML,)

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument:
        # The bytes, not the decoded text: the XML declaration names the encoding.
        try:
            root = DefusedET.fromstring(
                content.data, forbid_dtd=False, forbid_entities=True, forbid_external=True
            )
        except defusedxml.DefusedXmlException as exc:
            raise fail(content, self.name, f"unsafe XML refused: {exc}") from exc
        except (ET.ParseError, ValueError, RecursionError) as exc:
            raise fail(content, self.name, f"invalid XML: {exc}") from exc

        lines: list[str] = []
        namespaces: dict[str, None] = {}
        count = 0
        for element in root.iter():
            count += 1
            for name in (element.tag, *element.attrib):
                if isinstance(name, str) and name.startswith("{"):
                    namespaces[name[1:].partition("}")[0]] = None
            own = [element.text or "", *(child.tail or "" for child in element)]
            line = " ".join(" ".join(own).split())
            if line:
                lines.append(line)
        text = "\n".join(lines)

        index = LineIndex(text)
        chunks = ChunkList(content.item.uri, content.content_type)
        for piece, start in split_text(text, policy):
            start_line, end_line = index.lines_of(start, start + len(piece))
            chunks.add(piece, start_line=start_line, end_line=end_line)
        metadata: dict[str, Any] = {
            "root": root.tag,
            "element_count": count,
            "namespaces": list(namespaces),
        }
        title = root.findtext(".//{*}title")
        return build_document(
            content,
            text=text,
            title=short_title(title),
            metadata=metadata,
            chunks=chunks.chunks,
        )
