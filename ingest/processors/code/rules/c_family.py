"""Symbol rules for C and C++."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import nodes
from .base import Classify, Definition, LanguageRules, by_name_field, wrapper

if TYPE_CHECKING:
    from tree_sitter import Node

_DECLARATOR_NAMES = frozenset(
    {"identifier", "field_identifier", "type_identifier", "destructor_name", "operator_name",
     "qualified_identifier", "template_function", "operator_cast"}
)  # fmt: skip


def _declarator_name(node: Node | None) -> str:
    for _ in range(16):
        if node is None:
            return ""
        if node.type in _DECLARATOR_NAMES:
            return nodes.bare_type(nodes.text(node))
        inner = nodes.child(node, "declarator")
        if inner is None and node.named_children:
            inner = node.named_children[-1]
        node = inner
    return ""


def _function(node: Node, in_type: bool) -> Definition | None:
    name = _declarator_name(nodes.child(node, "declarator"))
    if not name:
        return None
    return Definition(name, "method" if in_type or "." in name else "function")


def _type(kind: str) -> Classify:
    def classify(node: Node, in_type: bool) -> Definition | None:
        body = nodes.child(node, "body")
        name = nodes.bare_type(nodes.name(node))
        if body is None or not name:
            return None
        return Definition(name, kind, body if kind in ("class", "struct") else None)

    return classify


def _typedef(node: Node, in_type: bool) -> Definition | None:
    name = _declarator_name(nodes.child(node, "declarator"))
    type_node = nodes.child(node, "type")
    kind = "type"
    if type_node is not None and nodes.child(type_node, "body") is not None:
        kind = {"struct_specifier": "struct", "union_specifier": "union",
                "enum_specifier": "enum"}.get(type_node.type, "type")  # fmt: skip
    return Definition(name, kind) if name else None


def _namespace(node: Node, in_type: bool) -> Definition | None:
    body = nodes.child(node, "body")
    name = nodes.bare_type(nodes.name(node))
    if not name:  # an anonymous namespace: its members stay at this level
        return Definition("", "namespace", body, qualify=False)
    return Definition(name, "namespace", body)


def _linkage(node: Node, in_type: bool) -> Definition | None:
    return Definition("", "namespace", nodes.child(node, "body"), qualify=False)


def _imports(node: Node) -> list[str]:
    return [nodes.unquote(nodes.text(nodes.child(node, "path")))]


def _rules(cpp: bool) -> LanguageRules:
    ref: list[Classify] = []
    special: dict[str, Classify] = {
        "function_definition": _function,
        "struct_specifier": _type("struct"),
        "union_specifier": _type("union"),
        "enum_specifier": _type("enum"),
        "type_definition": _typedef,
    }
    if cpp:
        special.update(
            {
                "class_specifier": _type("class"),
                "namespace_definition": _namespace,
                "linkage_specification": _linkage,
                "template_declaration": wrapper(ref),
            }
        )
    ref.append(by_name_field({}, special))
    transparent = frozenset(
        {"preproc_ifdef", "preproc_if", "preproc_else", "preproc_elif", "preproc_elifdef"}
    )
    return LanguageRules(ref[0], imports={"preproc_include": _imports}, transparent=transparent)


RULES = {"c": _rules(cpp=False), "cpp": _rules(cpp=True)}
