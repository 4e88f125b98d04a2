"""Symbol rules for PHP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..comments import CommentStyle
from . import nodes
from .base import Definition, LanguageRules, by_name_field

if TYPE_CHECKING:
    from tree_sitter import Node


def _namespace(node: Node, in_type: bool) -> Definition | None:
    body = nodes.child(node, "body")
    name = nodes.bare_type(nodes.name(node))
    return Definition(name, "namespace", body) if body is not None and name else None


_LOADS = frozenset(
    {"require_expression", "require_once_expression", "include_expression",
     "include_once_expression"}
)  # fmt: skip


def _imports(node: Node) -> list[str]:
    if node.type == "namespace_use_declaration":
        found = []
        for clause in node.named_children:
            if clause.type == "namespace_use_clause":
                found.append(nodes.text(clause).split(" as ")[0].lstrip("\\"))
            elif clause.type == "namespace_use_group":
                found.append(nodes.text(node).removeprefix("use").rstrip(";").strip())
                break
        return found
    expression = node.named_children[0] if node.named_children else None
    if expression is None or expression.type not in _LOADS:
        return []
    if not expression.named_children:
        return []
    return [nodes.unquote(nodes.text(expression.named_children[0]))]


RULES = {
    "php": LanguageRules(
        by_name_field(
            {"class_declaration": ("class", "body"),
             "interface_declaration": ("interface", "body"),
             "trait_declaration": ("trait", "body"), "enum_declaration": ("enum", "body"),
             "function_definition": ("function", None), "method_declaration": ("method", None)},
            {"namespace_definition": _namespace},
        ),
        comments=CommentStyle(("//", "#")),
        imports={"namespace_use_declaration": _imports, "expression_statement": _imports},
        transparent=frozenset({"enum_declaration_list"}),
    ),
}  # fmt: skip
