"""Whether a stored document is what today's processors would produce: a document
made by another version of its processor (or by one the store did not record) is
processed again once, even though its content did not change."""

from __future__ import annotations

from .processors import processor_id, processors
from .store.base import StoredState


def needs_reprocessing(state: StoredState) -> bool:
    """True when the item's live document came from another processor, or another
    version of it, than the one that takes its content type now."""
    if not state.has_document or state.deleted:
        return False
    current = processors.latest_for_type(state.content_type) if state.content_type else None
    return current is None or state.processor != processor_id(current)
