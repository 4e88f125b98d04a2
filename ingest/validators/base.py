"""The validator interface: content in, errors and warnings out."""

from __future__ import annotations

from typing import ClassVar, Protocol

from ..models import FetchedContent, ValidationIssue, ValidationResult


class Validator(Protocol):
    """Checks fetched content of its content types.

    Returns errors (the item is rejected) and warnings (kept in the document's
    metadata). Never raises on bad content: bad content is a result.
    """

    name: ClassVar[str]
    content_types: ClassVar[tuple[str, ...]]

    def validate(self, content: FetchedContent) -> ValidationResult: ...


def issues_past_cap(total: int, cap: int, code: str, what: str) -> list[ValidationIssue]:
    """The one issue that stands for the `total - cap` problems not listed one by one
    ("N more WHAT (TOTAL in all)"); none when all `total` were listed."""
    if total <= cap:
        return []
    return [ValidationIssue(code=code, message=f"{total - cap} more {what} ({total} in all)")]
