"""Symbol rules for Java and C#."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..comments import CommentStyle
from . import nodes
from .base import LanguageRules, by_name_field

if TYPE_CHECKING:
    from tree_sitter import Node


def _imports(node: Node) -> list[str]:
    text = nodes.text(node)
    text = text.removeprefix("import").removeprefix("global using").removeprefix("using")
    return [text.strip().rstrip(";").strip()]


RULES = {
    "java": LanguageRules(
        by_name_field(
            {"class_declaration": ("class", "body"),
             "interface_declaration": ("interface", "body"),
             "enum_declaration": ("enum", "body"), "record_declaration": ("record", "body"),
             "annotation_type_declaration": ("interface", "body"),
             "method_declaration": ("method", None),
             "constructor_declaration": ("method", None),
             "compact_constructor_declaration": ("method", None)},
        ),
        imports={"import_declaration": _imports},
        transparent=frozenset({"enum_body_declarations"}),
    ),
    "csharp": LanguageRules(
        by_name_field(
            {"namespace_declaration": ("namespace", "body"),
             "class_declaration": ("class", "body"), "struct_declaration": ("struct", "body"),
             "interface_declaration": ("interface", "body"),
             "enum_declaration": ("enum", None), "record_declaration": ("record", "body"),
             "method_declaration": ("method", None),
             "constructor_declaration": ("method", None),
             "destructor_declaration": ("method", None),
             "local_function_statement": ("function", None)},
        ),
        comments=CommentStyle(("//",), xml_docs=True),
        imports={"using_directive": _imports},
        transparent=frozenset({"global_statement"}),
    ),
}  # fmt: skip
