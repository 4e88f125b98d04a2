"""Symbol rules for YAML and TOML, and YAML top-level keys by line where the grammar fails."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..comments import HASH, leading_comment
from ..symbols import Outline, Symbol
from . import nodes
from .base import Classify, Definition, LanguageRules, by_name_field

if TYPE_CHECKING:
    from tree_sitter import Node


def _yaml_pair(node: Node, in_type: bool) -> Definition | None:
    name = nodes.unquote(nodes.text(nodes.child(node, "key")))
    return Definition(name, "key") if name else None


_TOML_KEYS = frozenset({"bare_key", "dotted_key", "quoted_key"})


def _toml_entry(kind: str) -> Classify:
    def classify(node: Node, in_type: bool) -> Definition | None:
        for key in node.named_children:
            if key.type in _TOML_KEYS:
                return Definition(nodes.text(key), kind)
        return None

    return classify


RULES = {
    "yaml": LanguageRules(
        by_name_field({}, {"block_mapping_pair": _yaml_pair}),
        comments=HASH,
        transparent=frozenset({"document", "block_node", "block_mapping"}),
    ),
    "toml": LanguageRules(
        by_name_field({}, {"pair": _toml_entry("key"), "table": _toml_entry("table"),
                           "table_array_element": _toml_entry("table")}),
        comments=HASH,
        end_at_last_child=frozenset({"table", "table_array_element"}),
    ),
}  # fmt: skip


# The YAML grammar's scanner crashes the process past ~250 indentation levels; a
# level takes at least one column, so a shallower indentation prefix is safe.
_YAML_MAX_PREFIX = 200
_YAML_KEY = re.compile(r"""^("[^"]*"|'[^']*'|[^\s#\-?:'"][^#]*?)\s*:(?:\s|$)""")


def too_deep_for_yaml_grammar(text: str) -> bool:
    return any(
        len(line) - len(line.lstrip(" \t-?:")) >= _YAML_MAX_PREFIX
        for line in text.split("\n")
        if len(line) >= _YAML_MAX_PREFIX
    )


def yaml_keys_outline(text: str) -> Outline:
    """Top-level keys of YAML read line by line: a key line starts at column 0 and
    its section runs to the line before the next key or document marker."""
    lines = text.split("\n")
    symbols: list[Symbol] = []
    for number, line in enumerate(lines, 1):
        found = _YAML_KEY.match(line)
        if found is None and not line.startswith(("---", "...")):
            continue
        start, docstring = number, None
        if found is not None:
            floor = symbols[-1].start if symbols else 0
            start, docstring = leading_comment(lines, number, floor, HASH)
        if symbols and symbols[-1].end == 0:
            end = start - 1
            while end > symbols[-1].start and not lines[end - 1].strip():
                end -= 1
            symbols[-1].end = end
        if found is not None:
            symbols.append(Symbol(nodes.unquote(found.group(1)), "key", start, 0, docstring))
    if symbols and symbols[-1].end == 0:
        symbols[-1].end = len(lines)
    return Outline(symbols, [], [])
