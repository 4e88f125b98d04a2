"""The outline of code from a tree-sitter tree, whatever the language: symbols, imports, errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..languages import grammar_name, parser_for
from .comments import leading_comment
from .rules import RULES, LanguageRules
from .rules.base import Definition
from .rules.data import too_deep_for_yaml_grammar, yaml_keys_outline
from .rules.shell import shell_outline
from .rules.sql import sql_statements_outline
from .symbols import Outline, Symbol, walk_symbols

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree

__all__ = [
    "MAX_PARSE_BYTES",
    "Outline",
    "Symbol",
    "outline",
    "shell_outline",
    "sql_statements_outline",
    "walk_symbols",
    "yaml_keys_outline",
]

MAX_PARSE_BYTES = 4 * 1024 * 1024  # larger files get line windows: parse time is bounded
_MAX_DEPTH = 24  # nesting of containers (namespaces, classes) that we look into
_MAX_ERRORS = 10
_MAX_ERROR_VISITS = 20_000


def outline(language: str, text: str, file_name: str = "") -> Outline | None:
    """The outline of `text` in `language`; None when no grammar is installed."""
    if language == "bash":  # never through tree-sitter-bash: its scanner can crash the process
        return shell_outline(text)
    parser = parser_for(grammar_name(language, file_name))
    if parser is None or language not in RULES:
        return None
    if language == "yaml" and too_deep_for_yaml_grammar(text):
        found = yaml_keys_outline(text)
        found.warnings.append("YAML nested too deeply for the parser: top-level keys by line")
        return found
    data = text.encode("utf-8", "surrogatepass")
    tree = _parse(parser, data)
    if tree is None:
        return Outline([], [], [f"over {MAX_PARSE_BYTES} bytes; not parsed for symbols"])
    walker = _Walker(RULES[language], text.split("\n"))
    symbols = walker.walk(tree.root_node, "", 0, False, 0)
    warnings: list[str] = []
    if tree.root_node.has_error:
        lines = _error_lines(tree.root_node)
        where = ", ".join(map(str, lines)) if lines else "unknown lines"
        warnings.append(f"parse errors at lines {where}")
    return Outline(symbols, list(walker.imports), warnings)


def _parse(parser: Parser, data: bytes) -> Tree | None:
    # Parse from bytes, not through a read callback: py-tree-sitter 0.26 can crash
    # the process when nodes of a callback-parsed tree read their text.
    if len(data) > MAX_PARSE_BYTES:
        return None
    return parser.parse(data)


def _error_lines(root: Node) -> list[int]:
    found: set[int] = set()
    stack = [root]
    visits = 0
    while stack and len(found) < _MAX_ERRORS and visits < _MAX_ERROR_VISITS:
        node = stack.pop()
        visits += 1
        if node.is_error or node.is_missing:
            found.add(node.start_point.row + 1)
        elif node.has_error:
            stack.extend(reversed(node.children))
    return sorted(found)


def _first_line(node: Node) -> int:
    return node.start_point.row + 1


def _last_line(node: Node) -> int:
    """Last line holding a character of `node` (a node may end after a newline)."""
    row, column = node.end_point
    if column == 0 and row > node.start_point.row:
        return row
    return row + 1


class _Walker:
    def __init__(self, rules: LanguageRules, lines: list[str]) -> None:
        self.rules = rules
        self.lines = lines
        self.imports: dict[str, None] = {}

    def walk(self, node: Node, prefix: str, depth: int, in_type: bool, floor: int) -> list[Symbol]:
        """Definitions among the children of `node`; `floor` is the last line that
        leading comments of the first one cannot reach."""
        symbols: list[Symbol] = []
        if depth > _MAX_DEPTH:
            return symbols
        previous_end = floor
        for child in node.named_children:
            importer = self.rules.imports.get(child.type)
            if importer is not None:
                for name in importer(child):
                    if name:
                        self.imports[name] = None
            if child.type in self.rules.transparent:
                inner = self.walk(child, prefix, depth + 1, in_type, previous_end)
                symbols.extend(inner)
            else:
                found = self.rules.classify(child, in_type)
                if found is not None:
                    symbols.extend(self._symbols(child, found, prefix, depth, previous_end))
            if not child.type.endswith("comment") and child.type not in self.rules.prefix_nodes:
                previous_end = max(previous_end, _last_line(child))
        return symbols

    def _symbols(
        self, node: Node, found: Definition, prefix: str, depth: int, floor: int
    ) -> list[Symbol]:
        first = _first_line(node)
        last = _last_line(node)
        if node.type in self.rules.end_at_last_child and node.named_children:
            last = max(first, _last_line(node.named_children[-1]))
        members: list[Symbol] = []
        if found.body is not None:
            inner_prefix = f"{prefix}{found.name}." if found.qualify else prefix
            in_type = found.kind not in ("namespace", "module")
            members = self.walk(found.body, inner_prefix, depth + 1, in_type, first)
        if not found.name:  # anonymous namespace, extern "C", class << self
            return members
        start, docstring = leading_comment(self.lines, first, floor, self.rules.comments)
        return [Symbol(prefix + found.name, found.kind, start, last, docstring, members)]
