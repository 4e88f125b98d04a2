"""One document through the pipeline's CPU stage (sniff, validate, process), as a batch
worker runs it."""

from __future__ import annotations

from ingest.content_types import guess_content_type
from ingest.models import SourceItem, content_hash
from ingest.pipeline import _Content, process_content
from ingest.processors.base import ChunkPolicy
from ingest.store.base import ItemWrite
from ingest.validators import ValidationPolicy


def run(name: str, data: bytes, policy: ChunkPolicy | None = None) -> ItemWrite:
    item = SourceItem(
        source_id="test",
        uri=f"file:///root/{name}",
        path=name,
        content_type=guess_content_type(name),  # as the sources guess it
    )
    write, _, _ = process_content(
        _Content(item, data, content_hash(data), False),
        validation=ValidationPolicy(),
        chunking=policy or ChunkPolicy(),
    )
    return write


def located(write: ItemWrite, *keys: str) -> list[tuple[object, ...]]:
    """(text, metadata[key]...) of every chunk of the stored document."""
    assert write.document is not None, (write.outcome, write.errors, write.failure)
    return [
        (chunk.text, *(chunk.metadata.get(key) for key in keys)) for chunk in write.document.chunks
    ]
