"""Symbol rules for SQL: CREATE statements, by grammar or by `;`-ended statements."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..comments import CommentStyle, leading_comment
from ..symbols import Outline, Symbol
from . import nodes
from .base import Definition, LanguageRules, by_name_field

if TYPE_CHECKING:
    from tree_sitter import Node

_COMMENTS = CommentStyle(("--",))


def _statement(node: Node, in_type: bool) -> Definition | None:
    for inner in node.named_children:
        if not inner.type.startswith("create_"):
            continue
        kind = inner.type.removeprefix("create_")
        for created in inner.named_children:
            if created.type in ("object_reference", "identifier"):
                return Definition(nodes.text(created), kind)
    return None


RULES = {"sql": LanguageRules(by_name_field({}, {"statement": _statement}), comments=_COMMENTS)}


_CREATE = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMP(?:ORARY)?\s+)?"
    r"(?:UNIQUE\s+)?(MATERIALIZED\s+VIEW|TABLE|VIEW|FUNCTION|PROCEDURE|INDEX|TRIGGER|TYPE"
    r"|SCHEMA|SEQUENCE|DOMAIN|EXTENSION)\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.\"`\[\]]+)",
    re.IGNORECASE,
)


def sql_statements_outline(text: str) -> Outline:
    """SQL without a grammar: statements end at a `;` closing a line; CREATE
    statements are the symbols."""
    lines = text.split("\n")
    symbols: list[Symbol] = []
    statement_start = 1
    floor = 0
    for number, line in enumerate(lines, 1):
        code = line.split("--", 1)[0].rstrip()
        if not code.endswith(";") and number != len(lines):
            continue
        first = statement_start
        while first <= number and (
            not lines[first - 1].strip() or lines[first - 1].lstrip().startswith("--")
        ):
            first += 1
        if first <= number:
            found = _CREATE.match("\n".join(lines[first - 1 : number]))
            if found:
                kind = "_".join(found.group(1).lower().split())
                start, docstring = leading_comment(lines, first, floor, _COMMENTS)
                symbols.append(Symbol(found.group(2).strip('"`[]'), kind, start, number, docstring))
        floor = number
        statement_start = number + 1
    return Outline(symbols, [], [])
