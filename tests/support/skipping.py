"""Plug-ins that say "not for this tool" through `ItemSkippedError`, as a document
processor does for a scanned PDF: a custom validator, a processor and a source. In a
worker process the module registers its processor when imported, so a worker that
unpickles the source (or loads the validator) has it too; the test process registers it
only for the tests that ask (`register`/`unregister`), since a registered processor
changes the pipeline version, and with it the job key every other test computes."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from typing import ClassVar

from ingest.errors import ItemSkippedError
from ingest.models import FetchedContent, ProcessedDocument, SourceItem
from ingest.processors import has_processor, processors
from ingest.processors.base import ChunkPolicy
from ingest.sources.filesystem import FilesystemSource

SCAN_TYPE = "application/x-test-scan"


def skip_drafts(content: FetchedContent) -> list[str]:
    """A custom validator: a page marked DRAFT is not ingested, by policy."""
    if content.text and content.text.startswith("DRAFT"):
        raise ItemSkippedError("marked DRAFT: not published", code="draft", uri=content.item.uri)
    return []


class ScanProcessor:
    """A processor for a type whose items may hold no text (a scan without text layer)."""

    name: ClassVar[str] = "test-scan"
    version: ClassVar[str] = "1"
    content_types: ClassVar[tuple[str, ...]] = (SCAN_TYPE,)

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument:
        raise ItemSkippedError(
            "a scanned page without a text layer",
            code="no-text-layer",
            uri=content.item.uri,
            processor_id=self.name,
        )


class ScanFolderSource(FilesystemSource):
    """A folder whose `*.scan` files are of the scan type, and whose `*.gone` files are
    refused at fetch by policy."""

    def discover(self, batch_size: int) -> Iterator[list[SourceItem]]:
        for page in super().discover(batch_size):
            yield [
                item.model_copy(update={"content_type": SCAN_TYPE})
                if item.uri.endswith(".scan")
                else item
                for item in page
            ]

    def fetch(self, item: SourceItem) -> bytes:
        if item.uri.endswith(".withheld"):
            raise ItemSkippedError(
                "withheld by the source's policy", code="withheld", uri=item.uri, stage="fetch"
            )
        return super().fetch(item)


def register() -> None:
    if not has_processor(SCAN_TYPE):
        processors.register(ScanProcessor())


def unregister() -> None:
    """Keep the registry (and so the pipeline version) of the test process as it was."""
    processors._by_type.pop(SCAN_TYPE, None)  # noqa: SLF001 - test clean-up
    processors._by_name.pop(ScanProcessor.name, None)  # noqa: SLF001


if multiprocessing.parent_process() is not None:
    register()
