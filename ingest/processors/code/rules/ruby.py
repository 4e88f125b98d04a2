"""Symbol rules for Ruby."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..comments import HASH
from . import nodes
from .base import Classify, Definition, LanguageRules, by_name_field

if TYPE_CHECKING:
    from tree_sitter import Node


def _container(kind: str) -> Classify:
    def classify(node: Node, in_type: bool) -> Definition | None:
        name = nodes.bare_type(nodes.name(node))
        return Definition(name, kind, nodes.child(node, "body")) if name else None

    return classify


def _singleton(node: Node, in_type: bool) -> Definition | None:
    name = nodes.name(node)
    owner = nodes.text(nodes.child(node, "object"))
    if not name:
        return None
    return Definition(name if owner == "self" else f"{nodes.bare_type(owner)}.{name}", "method")


def _class_body(node: Node, in_type: bool) -> Definition | None:
    return Definition("", "class", nodes.child(node, "body"), qualify=False)


_LOADS = frozenset({"require", "require_relative", "load"})


def _imports(node: Node) -> list[str]:
    method = nodes.child(node, "method")
    arguments = nodes.child(node, "arguments")
    if nodes.child(node, "receiver") is not None or nodes.text(method) not in _LOADS:
        return []
    if arguments is None or not arguments.named_children:
        return []
    return [nodes.unquote(nodes.text(arguments.named_children[0]))]


RULES = {
    "ruby": LanguageRules(
        by_name_field(
            {"method": ("function", None)},
            {"class": _container("class"), "module": _container("module"),
             "singleton_method": _singleton, "singleton_class": _class_body},
        ),
        comments=HASH,
        imports={"call": _imports},
        transparent=frozenset({"body_statement"}),
    ),
}  # fmt: skip
