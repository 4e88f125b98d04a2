from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingest.documents.limits import document_limits


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    """Limits set through INGEST_DOCUMENT_* in a test apply to that test only."""
    document_limits.cache_clear()
    yield
    document_limits.cache_clear()
