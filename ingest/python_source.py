"""Python source parsed once: the validator and the code processor both need the AST of
the same text, one right after the other, so the last parse is kept."""

from __future__ import annotations

import ast
import warnings
from functools import lru_cache

# Statement lists are the only places an import can sit; walking just these fields
# visits a small share of the tree (expressions are most of it).
_STATEMENT_FIELDS = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})


@lru_cache(maxsize=2)
def parse_python(text: str) -> ast.Module:
    """The module's AST; raises what `ast.parse` raises (SyntaxError, RecursionError,
    MemoryError, ValueError). Callers must not mutate the tree: it is shared."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes etc. are not our concern
        return ast.parse(text)


def imported_modules(tree: ast.Module) -> list[str]:
    """Modules imported anywhere in the file, in `ast.walk` order, each once."""
    found: dict[str, None] = {}
    level: list[ast.AST] = [tree]
    while level:
        following: list[ast.AST] = []
        for node in level:
            kind = type(node)  # the parser makes no subclasses: compared, not isinstance
            if kind is ast.Import or kind is ast.ImportFrom:
                _add_imported(found, node)
            # Most statements (assignments, expressions, returns) have none: no loop.
            fields = _FIELDS_OF.get(kind)
            if fields is None:
                fields = _FIELDS_OF[kind] = _statement_fields(node)
            for field in fields:
                following.extend(getattr(node, field))
        level = following
    return list(found)


def _add_imported(found: dict[str, None], node: ast.AST) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            found[alias.name] = None
    elif isinstance(node, ast.ImportFrom):
        found["." * node.level + (node.module or "")] = None


def _statement_fields(node: ast.AST) -> tuple[str, ...]:
    return tuple(field for field in node._fields if field in _STATEMENT_FIELDS)


_FIELDS_OF: dict[type, tuple[str, ...]] = {}  # by node type, filled as types are met
