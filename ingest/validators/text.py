"""Checks every text-ish item gets, whatever its format, and helpers the format modules share.

Codes: errors ``binary``, ``undecodable``, ``empty``, ``nul-bytes``, ``control-chars``;
warnings ``line-too-long``, ``replacement-chars``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ..content_types import JSON, XML
from ..models import FetchedContent, ValidationIssue, ValidationResult
from .base import issues_past_cap
from .policy import PolicyValidator

TEXT_TYPES: tuple[str, ...] = ("text/*", JSON, XML, "application/yaml", "application/toml")

# Unicode category Cc without tab, LF, CR, FF, and without NUL, which has its own check.
_CONTROL = re.compile("[\x01-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_CHUNK = 1 << 20
_MAX_LONG_LINES = 10


def line_col(text: str, pos: int) -> str:
    """'line L, column C' (both from 1) of the character at `pos`."""
    line = text.count("\n", 0, pos) + 1
    column = pos - text.rfind("\n", 0, pos)
    return f"line {line}, column {column}"


def no_text(content: FetchedContent) -> ValidationIssue:
    """The error for content that has no text to check."""
    if content.is_binary:
        return ValidationIssue(code="binary", message="content is binary, not text")
    return ValidationIssue(code="undecodable", message="no text encoding explains the bytes")


def error(code: str, message: str, location: str | None = None) -> ValidationResult:
    """A result with the one error."""
    return ValidationResult(errors=[ValidationIssue(code=code, message=message, location=location)])


def warning(code: str, message: str, location: str | None = None) -> ValidationResult:
    """A result with the one warning."""
    return ValidationResult(
        warnings=[ValidationIssue(code=code, message=message, location=location)]
    )


def long_lines(text: str, limit: int) -> Iterator[tuple[int, int]]:
    """(line number, length) of each line longer than `limit` characters.

    Steps a window of `limit` characters at a time with C-level searches, so a
    200 MB line costs two scans and no per-line or per-character Python loop.
    """
    size, pos, line, counted = len(text), 0, 1, 0
    while size - pos > limit:
        newline = text.rfind("\n", pos, pos + limit + 1)
        if newline != -1:
            pos = newline + 1  # every line ending in the window fits
            continue
        end = text.find("\n", pos + limit + 1)
        line += text.count("\n", counted, pos)
        counted = pos
        yield line, (size if end == -1 else end) - pos
        if end == -1:
            return
        pos = end + 1


def count_controls(text: str, start: int = 0) -> int:
    # findall over bounded windows: C speed without a list as long as the text.
    return sum(
        len(_CONTROL.findall(text, at, at + _CHUNK)) for at in range(start, len(text), _CHUNK)
    )


class TextValidator(PolicyValidator):
    name: ClassVar[str] = "text"
    content_types: ClassVar[tuple[str, ...]] = TEXT_TYPES

    def validate(self, content: FetchedContent) -> ValidationResult:
        policy = self.policy
        errors: list[ValidationIssue] = []
        warnings: list[ValidationIssue] = []
        if len(content.data) < policy.min_size:
            errors.append(
                ValidationIssue(
                    code="empty",
                    message=f"{len(content.data)} bytes, less than the minimum of "
                    f"{policy.min_size}",
                )
            )
        text = content.text
        if text is None or content.is_binary:
            return ValidationResult(errors=[*errors, no_text(content)])

        nul = text.find("\x00")
        if nul != -1:
            errors.append(
                ValidationIssue(
                    code="nul-bytes",
                    message=f"{text.count(chr(0))} NUL characters in text",
                    location=line_col(text, nul),
                )
            )
        first = _CONTROL.search(text)
        if first is not None:
            controls = count_controls(text, first.start())
            if controls > policy.max_control_char_ratio * len(text):
                errors.append(
                    ValidationIssue(
                        code="control-chars",
                        message=f"{controls} control characters ({controls / len(text):.1%}), "
                        f"more than the limit of {policy.max_control_char_ratio:.1%}",
                        location=line_col(text, first.start()),
                    )
                )

        too_long = 0
        for line, length in long_lines(text, policy.max_line_length):
            too_long += 1
            if too_long <= _MAX_LONG_LINES:
                warnings.append(
                    ValidationIssue(
                        code="line-too-long",
                        message=f"line of {length} characters, longer than the limit of "
                        f"{policy.max_line_length}",
                        location=f"line {line}",
                    )
                )
        warnings += issues_past_cap(too_long, _MAX_LONG_LINES, "line-too-long", "long lines")

        replacement = text.find("\ufffd")
        if replacement != -1:
            warnings.append(
                ValidationIssue(
                    code="replacement-chars",
                    message=f"{text.count(chr(0xFFFD))} U+FFFD replacement characters: "
                    "the source was probably decoded with the wrong encoding",
                    location=line_col(text, replacement),
                )
            )
        return ValidationResult(errors=errors, warnings=warnings)
