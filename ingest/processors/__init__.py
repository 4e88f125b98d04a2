"""The processor registry: every built-in processor, found by content type, plus
plug-ins from the `aichemist_ingest.processors` entry point group."""

from __future__ import annotations

from .. import __version__
from ..errors import ProcessingError
from ..registry import Registry
from .base import ChunkPolicy, Processor
from .code import CodeProcessor, PythonProcessor
from .csv_data import CsvProcessor
from .epub import EpubProcessor
from .excel import XlsxProcessor
from .html import HtmlProcessor
from .json_data import JsonProcessor
from .markdown import MarkdownProcessor
from .pdf import PdfProcessor
from .powerpoint import PptxProcessor
from .text import TextProcessor
from .word import DocxProcessor
from .xml_data import XmlProcessor

__all__ = [
    "ChunkPolicy",
    "Processor",
    "has_processor",
    "pipeline_version",
    "processor_for",
    "processor_id",
    "processors",
]

processors = Registry[Processor]("aichemist_ingest.processors")
for _processor in (
    TextProcessor(),
    MarkdownProcessor(),
    PythonProcessor(),
    CodeProcessor(),
    JsonProcessor(),
    CsvProcessor(),
    XmlProcessor(),
    HtmlProcessor(),
    PdfProcessor(),
    DocxProcessor(),
    PptxProcessor(),
    XlsxProcessor(),
    EpubProcessor(),
):
    processors.register(_processor)


def processor_for(content_type: str) -> Processor:
    """The processor for `content_type` (exact type, then `text/*`, then `*/*`)."""
    found = processors.latest_for_type(content_type)
    if found is None:
        raise ProcessingError(f"no processor for content type {content_type!r}")
    return found


def has_processor(content_type: str) -> bool:
    """True when some processor (built-in or plug-in) takes `content_type`."""
    return processors.latest_for_type(content_type) is not None


def processor_id(processor: Processor) -> str:
    """`name:version`: what the store records of the processor that produced a document."""
    return f"{processor.name}:{processor.version}"


def pipeline_version() -> str:
    """A stable string that changes when the package or any processor changes,
    e.g. `0.1.0;code:1,csv:1,...`."""
    parts = sorted(f"{processor.name}:{processor.version}" for processor in processors)
    return f"{__version__};{','.join(parts)}"
