"""Python source: a cheap syntax check (parse to an AST, nothing runs). A syntax error is a
warning only: the processor still chunks the file as text.

Codes: warning ``syntax``.
"""

from __future__ import annotations

from typing import ClassVar

from ..models import FetchedContent, ValidationResult
from ..python_source import parse_python
from .policy import PolicyValidator
from .text import no_text, warning


class PythonValidator(PolicyValidator):
    name: ClassVar[str] = "python"
    content_types: ClassVar[tuple[str, ...]] = ("text/x-python",)

    def validate(self, content: FetchedContent) -> ValidationResult:
        text = content.text
        if text is None or content.is_binary:
            return ValidationResult(errors=[no_text(content)])
        try:
            parse_python(text)
        except SyntaxError as exc:
            where = None
            if exc.lineno:
                where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
            return warning("syntax", exc.msg, where)
        except (RecursionError, MemoryError):
            return warning("syntax", "nested too deeply to parse", None)
        except ValueError as exc:
            return warning("syntax", str(exc), None)
        return ValidationResult()
