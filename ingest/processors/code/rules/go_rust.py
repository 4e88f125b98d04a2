"""Symbol rules for Go and Rust."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..comments import CommentStyle
from . import nodes
from .base import Definition, LanguageRules, by_name_field

if TYPE_CHECKING:
    from tree_sitter import Node


def _go_method(node: Node, in_type: bool) -> Definition | None:
    name = nodes.name(node)
    receiver = nodes.child(node, "receiver")
    owner = ""
    if receiver is not None:
        for parameter in receiver.named_children:
            owner = nodes.bare_type(nodes.text(nodes.child(parameter, "type")))
    return Definition(f"{owner}.{name}" if owner else name, "method") if name else None


def _go_type(node: Node, in_type: bool) -> Definition | None:
    name = nodes.name(node)
    kinds = {"struct_type": "struct", "interface_type": "interface"}
    type_node = nodes.child(node, "type")
    kind = kinds.get(type_node.type if type_node is not None else "", "type")
    return Definition(name, kind) if name else None


def _go_imports(node: Node) -> list[str]:
    found: list[str] = []
    stack = list(node.named_children)
    while stack:
        spec = stack.pop(0)
        if spec.type == "import_spec":
            found.append(nodes.unquote(nodes.text(nodes.child(spec, "path"))))
        elif spec.type == "import_spec_list":
            stack[:0] = spec.named_children
    return found


def _rust_impl(node: Node, in_type: bool) -> Definition | None:
    name = nodes.bare_type(nodes.text(nodes.child(node, "type")))
    return Definition(name, "impl", nodes.child(node, "body")) if name else None


def _rust_signature(node: Node, in_type: bool) -> Definition | None:
    name = nodes.name(node)
    return Definition(name, "method") if in_type and name else None


def _rust_imports(node: Node) -> list[str]:
    if node.type == "extern_crate_declaration":
        return [nodes.name(node)]
    return [nodes.text(nodes.child(node, "argument")).replace(" ", "")]


RULES = {
    "go": LanguageRules(
        by_name_field({"function_declaration": ("function", None)},
                      {"method_declaration": _go_method, "type_spec": _go_type}),
        imports={"import_declaration": _go_imports},
        transparent=frozenset({"type_declaration"}),
    ),
    "rust": LanguageRules(
        by_name_field(
            {"function_item": ("function", None), "struct_item": ("struct", None),
             "enum_item": ("enum", None), "union_item": ("union", None),
             "trait_item": ("trait", "body"), "mod_item": ("module", "body"),
             "macro_definition": ("macro", None), "type_item": ("type", None)},
            {"impl_item": _rust_impl, "function_signature_item": _rust_signature},
        ),
        comments=CommentStyle(("//",), attributes=("#[",)),
        prefix_nodes=frozenset({"attribute_item"}),
        imports={"use_declaration": _rust_imports, "extern_crate_declaration": _rust_imports},
    ),
}  # fmt: skip
