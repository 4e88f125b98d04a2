"""The validator interface: content in, errors and warnings out."""

from __future__ import annotations

from typing import ClassVar, Protocol

from ..models import FetchedContent, ValidationResult


class Validator(Protocol):
    """Checks fetched content of its content types.

    Returns errors (the item is rejected) and warnings (kept in the document's
    metadata). Never raises on bad content: bad content is a result.
    """

    name: ClassVar[str]
    content_types: ClassVar[tuple[str, ...]]

    def validate(self, content: FetchedContent) -> ValidationResult: ...
