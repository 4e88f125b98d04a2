"""Symbols of shell scripts read by line (tree-sitter-bash's scanner can crash the process)."""

from __future__ import annotations

import re

from ..comments import HASH, leading_comment
from ..symbols import Outline, Symbol
from . import nodes

_FUNCTION = re.compile(
    r"^(?P<indent>[ \t]*)(?:function[ \t]+(?P<kw>[A-Za-z_][\w:.-]*)[ \t]*(?:\(\s*\))?"
    r"|(?P<name>[A-Za-z_][\w:.-]*)[ \t]*\(\s*\))[ \t]*\{?[ \t]*(?:#.*)?$"
)
_SOURCE = re.compile(r"^[ \t]*(?:source|\.)[ \t]+(?P<path>[^\s;#&|]+)")


def shell_outline(text: str) -> Outline:
    """Shell functions (`name() {` and `function name {`) ending at the first `}` line
    at or left of their indentation, and sourced files as imports."""
    lines = text.split("\n")
    symbols: list[Symbol] = []
    imports: list[str] = []
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        if (sourced := _SOURCE.match(line)) is not None:
            imports.append(nodes.unquote(sourced.group("path")))
            continue
        found = _FUNCTION.match(line)
        if found is None:
            continue
        indent = len(found.group("indent").expandtabs())
        end = number
        for later in range(number, len(lines)):
            body = lines[later]
            if body.strip().startswith("}") and len(body) - len(body.lstrip()) <= indent:
                end = later + 1
                break
        floor = symbols[-1].end if symbols else 0
        start, docstring = leading_comment(lines, number, floor, HASH)
        name = found.group("kw") or found.group("name")
        symbols.append(Symbol(name, "function", start, end, docstring))
        number = max(number, end)
    return Outline(symbols, imports, [])
