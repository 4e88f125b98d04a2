"""Markdown: the YAML front matter between `---` lines, when there is one, must parse to a
mapping.

Codes: warning ``front-matter``.
"""

from __future__ import annotations

from typing import ClassVar

import yaml

from ..content_types import MARKDOWN
from ..front_matter import find_front_matter, opens_front_matter
from ..models import FetchedContent, ValidationResult
from ..yaml_data import load_yaml
from .policy import PolicyValidator
from .text import no_text, warning


class MarkdownValidator(PolicyValidator):
    name: ClassVar[str] = "markdown"
    content_types: ClassVar[tuple[str, ...]] = (MARKDOWN,)

    def validate(self, content: FetchedContent) -> ValidationResult:
        text = content.text
        if text is None or content.is_binary:
            return ValidationResult(errors=[no_text(content)])
        if not opens_front_matter(text):
            return ValidationResult()
        front_matter = find_front_matter(text)
        if front_matter is None:
            return _problem("opened by '---' but never closed", "line 1")
        try:
            data = load_yaml(front_matter.raw)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            # +2: marks count from 0, and the block starts after the opening line.
            where = f"line {mark.line + 2}, column {mark.column + 1}" if mark else "line 1"
            return _problem(f"not valid YAML: {exc.problem or exc}", where)
        except yaml.YAMLError as exc:
            return _problem(f"not valid YAML: {exc}", "line 1")
        except RecursionError:
            return _problem("nested too deeply to parse", "line 1")
        if data is not None and not isinstance(data, dict):
            return _problem(f"a {type(data).__name__}, not a mapping", "line 2")
        return ValidationResult()


def _problem(what: str, location: str) -> ValidationResult:
    return warning("front-matter", f"front matter is {what}", location)
