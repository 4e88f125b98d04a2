"""JSON: size and nesting limits checked before parsing, then syntax, then the JSON Schema
that the policy maps to the item's path.

Codes: errors ``too-large``, ``too-deep``, ``invalid-json``, ``schema`` (and ``binary`` or
``undecodable`` when there is no text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, islice
from pathlib import Path
from typing import Any, ClassVar

from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from ..content_types import JSON
from ..errors import ConfigurationError
from ..models import FetchedContent, ValidationIssue, ValidationResult
from .policy import PolicyValidator
from .text import error, line_col, no_text

MAX_SCHEMA_ERRORS = 100

# Possessive, so an unterminated string fails in one pass instead of backtracking.
_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
# Everything up to the first unterminated string: possessive, so one linear pass.
_TERMINATED = re.compile(r'(?:[^"]++|' + _STRING.pattern + r")*+", re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
# A string, a lone quote (an unterminated string), or a bracket.
_TOKENS = re.compile(_STRING.pattern + r'|"|[\[\]{}]', re.DOTALL)
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def too_deep_at(text: str, limit: int) -> int | None:
    """Position of the first bracket that nests deeper than `limit`, or None.

    A linear scan that skips strings, so "[" * 100_000 is refused before the parser
    (and its recursion) sees it. Brackets after an unterminated string are left to
    the parser, which reports the string.
    """
    if text.count("[") + text.count("{") <= limit or _max_depth(text) <= limit:
        return None
    depth = 0
    for match in _TOKENS.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > limit:
                return match.start()
        elif char in "]}":
            depth -= 1
        elif match.end() - match.start() == 1:
            break  # an unterminated string
    return None


def _max_depth(text: str) -> int:
    # Regex substitutions and accumulate run in C: no Python step per string or bracket.
    terminated = _TERMINATED.match(text)
    end = terminated.end() if terminated else 0
    prefix = text if end == len(text) else text[:end]
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", prefix))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def json_pointer(parts: Iterable[str | int]) -> str:
    """RFC 6901 pointer of a path; the empty string is the whole document."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


@dataclass(frozen=True)
class SchemaCheck:
    """A loaded, checked JSON Schema, ready to validate many documents."""

    path: str
    checker: Any

    def issues(self, instance: object, cap: int = MAX_SCHEMA_ERRORS) -> list[ValidationIssue]:
        errors = list(islice(self.checker.iter_errors(instance), cap + 1))
        found = [
            ValidationIssue(
                code="schema", message=error.message, location=json_pointer(error.absolute_path)
            )
            for error in errors[:cap]
        ]
        if len(errors) > cap:
            found.append(
                ValidationIssue(
                    code="schema", message=f"more than {cap} schema errors; the rest not listed"
                )
            )
        return found


@lru_cache(maxsize=64)
def load_schema(path: str) -> SchemaCheck:
    """Read and check the schema at `path` once per process; ConfigurationError if unusable."""
    try:
        schema = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read JSON Schema {path!r}: {exc}") from exc
    if not isinstance(schema, dict | bool):
        raise ConfigurationError(f"JSON Schema {path!r} is not an object")
    cls = validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise ConfigurationError(f"invalid JSON Schema {path!r}: {exc.message}") from exc
    return SchemaCheck(path, cls(schema))


class JsonValidator(PolicyValidator):
    name: ClassVar[str] = "json"
    content_types: ClassVar[tuple[str, ...]] = (JSON,)

    def validate(self, content: FetchedContent) -> ValidationResult:
        policy = self.policy
        text = content.text
        if text is None or content.is_binary:
            return ValidationResult(errors=[no_text(content)])
        if len(content.data) > policy.max_json_bytes:
            return error(
                "too-large",
                f"{len(content.data)} bytes, more than the limit of {policy.max_json_bytes}",
            )
        text = text.removeprefix("\ufeff")
        deep = too_deep_at(text, policy.max_json_depth)
        if deep is not None:
            return error(
                "too-deep",
                f"nested deeper than the limit of {policy.max_json_depth}",
                line_col(text, deep),
            )
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            return error("invalid-json", exc.msg, f"line {exc.lineno}, column {exc.colno}")
        except ValueError as exc:  # e.g. an integer beyond the digit limit
            return error("invalid-json", str(exc))
        except RecursionError:
            return error("too-deep", "nested too deeply to parse")

        schema_path = policy.schema_path_for(content.item)
        if schema_path is None:
            return ValidationResult()
        return ValidationResult(errors=load_schema(schema_path).issues(document))
