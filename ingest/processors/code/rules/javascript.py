"""Symbol rules for JavaScript and TypeScript."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import nodes
from .base import Classify, Definition, Imports, KindTable, LanguageRules, by_name_field, wrapper

if TYPE_CHECKING:
    from tree_sitter import Node


def _variable(node: Node, in_type: bool) -> Definition | None:
    declarators = [c for c in node.named_children if c.type == "variable_declarator"]
    if len(declarators) != 1:
        return None
    value = nodes.child(declarators[0], "value")
    if value is None:
        return None
    kinds = {
        "arrow_function": "function", "function_expression": "function",
        "function": "function", "generator_function": "function", "class": "class",
    }  # fmt: skip
    kind = kinds.get(value.type)
    name = nodes.name(declarators[0])
    if kind is None or not name:
        return None
    return Definition(name, kind, nodes.child(value, "body") if kind == "class" else None)


def _imports(node: Node) -> list[str]:
    if node.type in ("import_statement", "export_statement"):
        source = nodes.child(node, "source")
        return [nodes.unquote(nodes.text(source))] if source is not None else []
    found = []
    for declarator in node.named_children:
        is_declarator = declarator.type == "variable_declarator"
        value = nodes.child(declarator, "value") if is_declarator else None
        if value is not None and value.type == "call_expression":
            function = nodes.child(value, "function")
            arguments = nodes.child(value, "arguments")
            if (
                nodes.text(function) == "require"
                and arguments is not None
                and arguments.named_children
            ):
                found.append(nodes.unquote(nodes.text(arguments.named_children[0])))
    return found


_JS_TABLE: KindTable = {
    "function_declaration": ("function", None),
    "generator_function_declaration": ("function", None),
    "class_declaration": ("class", "body"),
    "method_definition": ("method", None),
}
_TS_TABLE: KindTable = {
    **_JS_TABLE,
    "abstract_class_declaration": ("class", "body"),
    "interface_declaration": ("interface", "body"),
    "type_alias_declaration": ("type", None),
    "enum_declaration": ("enum", None),
    "internal_module": ("namespace", "body"),
    "module": ("namespace", "body"),
    "abstract_method_signature": ("method", None),
    "method_signature": ("method", None),
}


def _rules(table: KindTable) -> LanguageRules:
    ref: list[Classify] = []
    wrap = wrapper(ref, "declaration")
    special: dict[str, Classify] = {
        "export_statement": wrap,
        "expression_statement": wrap,
        "ambient_declaration": wrap,
        "lexical_declaration": _variable,
        "variable_declaration": _variable,
    }
    ref.append(by_name_field(table, special))
    imports: dict[str, Imports] = {
        "import_statement": _imports,
        "export_statement": _imports,
        "lexical_declaration": _imports,
        "variable_declaration": _imports,
    }
    return LanguageRules(ref[0], imports=imports)


RULES = {"javascript": _rules(_JS_TABLE), "typescript": _rules(_TS_TABLE)}
