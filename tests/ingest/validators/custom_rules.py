"""User validators referenced by dotted path in the policy tests."""

from __future__ import annotations

from ingest.models import FetchedContent, ValidationIssue, ValidationResult


def reject_todo(content: FetchedContent) -> list[str]:
    return ["contains TODO"] if "TODO" in (content.text or "") else []


def warn_short(content: FetchedContent) -> ValidationResult:
    if len(content.data) < 10:
        return ValidationResult(warnings=[ValidationIssue(code="short", message="under 10 bytes")])
    return ValidationResult()


def explode(content: FetchedContent) -> list[str]:
    raise RuntimeError("rule is broken")


def wrong_type(content: FetchedContent) -> int:
    return 42


NOT_CALLABLE = "just a string"
