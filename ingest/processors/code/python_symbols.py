"""Symbols of Python source read with `ast`: functions, classes and their methods."""

from __future__ import annotations

import ast

from ...python_source import parse_python
from .symbols import Symbol

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def parse_module(text: str) -> tuple[ast.Module | None, str]:
    try:
        return parse_python(text), ""
    except SyntaxError as exc:
        return None, f"syntax error at line {exc.lineno or '?'}: {exc.msg}"
    except (RecursionError, MemoryError, ValueError) as exc:
        return None, f"cannot parse as Python: {type(exc).__name__}: {exc}"


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _symbol_start(node: _Definition, floor: int, lines: list[str]) -> int:
    """First line of a definition: its decorators and the comment lines right above."""
    start = min([node.lineno, *[d.lineno for d in node.decorator_list]])
    while start - 1 > floor and _is_comment(lines[start - 2]):
        start -= 1
    return start


def python_symbols(body: list[ast.stmt], lines: list[str], floor: int, prefix: str) -> list[Symbol]:
    """Definitions in `body`; the members of classes (methods, nested classes) as
    their children."""
    symbols: list[Symbol] = []
    previous_end = floor
    for stmt in body:
        if isinstance(stmt, _DEFS):
            start = _symbol_start(stmt, previous_end, lines)
            end = stmt.end_lineno or stmt.lineno
            name = prefix + stmt.name
            if isinstance(stmt, ast.ClassDef):
                members = python_symbols(stmt.body, lines, stmt.lineno, name + ".")
                symbols.append(Symbol(name, "class", start, end, docstring_line(stmt), members))
            else:
                kind = "method" if prefix else "function"
                symbols.append(Symbol(name, kind, start, end, docstring_line(stmt)))
        previous_end = stmt.end_lineno or stmt.lineno
    return symbols


def docstring_line(node: _Definition | ast.Module) -> str | None:
    """The first line of the node's docstring as `ast.get_docstring` cleans it: the
    first line that is not blank, tabs expanded, stripped. Found without cleaning the
    whole docstring (`inspect.cleandoc` costs more than the rest of a symbol): cleaning
    only takes whitespace from where lines start, which stripping takes anyway."""
    first = node.body[0] if node.body else None
    if not isinstance(first, ast.Expr):
        return None
    value = first.value
    if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
        return None
    return value.value.expandtabs().strip().split("\n", 1)[0].strip() or None
