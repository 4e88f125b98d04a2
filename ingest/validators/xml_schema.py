"""XML Schema (XSD) validation with lxml, for XML that defusedxml has already accepted.

lxml is optional: an `.xsd` mapping without it is a configuration error. Documents are
parsed with entity resolution, DTD loading and network access off, and with libxml2's
default limits (no "huge tree"): a document beyond them is refused, not validated.

Codes: errors ``schema`` (line and, where libxml2 knows it, column), ``xml-limit``,
``malformed-xml``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..errors import ConfigurationError
from ..models import ValidationIssue
from .base import issues_past_cap
from .json_data import MAX_SCHEMA_ERRORS

# libxml2's advice to lift its limits is for the caller, not for the user.
_HUGE_HINT = re.compile(r",? (?:use|try) XML_PARSE_HUGE")


def _etree(path: str) -> Any:
    try:
        from lxml import etree
    except ImportError as exc:
        raise ConfigurationError(
            f"XML Schema {path!r} needs lxml, which is not installed (pip install lxml)"
        ) from exc
    return etree


def _safe_parser(etree: Any) -> Any:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _where(line: int | None, column: int | None) -> str | None:
    if not line:
        return None
    # libxml2 reports column 0 for most validity errors: the line is all it knows.
    return f"line {line}, column {column}" if column else f"line {line}"


@dataclass(frozen=True)
class XsdCheck:
    """A compiled XML Schema, ready to validate many documents."""

    path: str
    schema: Any
    # libxml2 keeps the errors of the last validation on the schema object: one at a time.
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False)

    def issues(self, data: bytes, cap: int = MAX_SCHEMA_ERRORS) -> list[ValidationIssue]:
        etree = _etree(self.path)
        try:
            document = etree.fromstring(data, _safe_parser(etree))
        except etree.XMLSyntaxError as exc:
            line, column = exc.position
            if exc.code == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
                reason = _HUGE_HINT.split(exc.msg, 1)[0]
                return [
                    ValidationIssue(
                        code="xml-limit",
                        message="beyond the limits for schema validation (nesting up to 256 "
                        f"levels, text nodes up to 10 MB): {reason}",
                        location=_where(line, column),
                    )
                ]
            return [
                ValidationIssue(
                    code="malformed-xml",
                    message=exc.msg.rsplit(", line ", 1)[0],
                    location=_where(line, column),
                )
            ]
        with self.lock:
            try:
                self.schema.validate(document)
            except etree.XMLSchemaValidateError as exc:
                return [ValidationIssue(code="schema", message=f"cannot be validated: {exc}")]
            log = list(self.schema.error_log)
        found = [
            ValidationIssue(
                code="schema", message=entry.message, location=_where(entry.line, entry.column)
            )
            for entry in log[:cap]
        ]
        return found + issues_past_cap(len(log), cap, "schema", "schema errors")


@lru_cache(maxsize=64)
def load_xsd(path: str) -> XsdCheck:
    """Read and compile the XML Schema at `path` once per process; ConfigurationError if
    lxml is missing or the file is unreadable, not XML or not a valid schema."""
    etree = _etree(path)
    try:
        tree = etree.parse(path, _safe_parser(etree))
    except OSError as exc:
        raise ConfigurationError(f"cannot read XML Schema {path!r}: {exc}") from exc
    except etree.XMLSyntaxError as exc:
        raise ConfigurationError(f"XML Schema {path!r} is not well-formed XML: {exc}") from exc
    try:
        schema = etree.XMLSchema(tree)
    except etree.XMLSchemaParseError as exc:
        raise ConfigurationError(f"invalid XML Schema {path!r}: {exc}") from exc
    return XsdCheck(path, schema)
