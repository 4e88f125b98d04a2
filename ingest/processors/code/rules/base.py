"""What a language's rules are (`LanguageRules`) and the common ways they classify nodes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..comments import C_STYLE, CommentStyle
from . import nodes

if TYPE_CHECKING:
    from tree_sitter import Node


@dataclass(frozen=True)
class Definition:
    name: str
    kind: str
    body: Node | None = None  # a container's members live here
    qualify: bool = True  # members are named `Name.member`


Classify = Callable[["Node", bool], "Definition | None"]
Imports = Callable[["Node"], list[str]]
KindTable = dict[str, tuple[str, str | None]]  # node type -> (kind, body field)


@dataclass(frozen=True)
class LanguageRules:
    classify: Classify
    comments: CommentStyle = C_STYLE
    imports: dict[str, Imports] = field(default_factory=dict)
    transparent: frozenset[str] = frozenset()  # look through, same level (#ifdef, ...)
    prefix_nodes: frozenset[str] = frozenset()  # belong to the next definition (Rust attributes)
    end_at_last_child: frozenset[str] = frozenset()  # TOML tables own the lines up to the next


def by_name_field(table: KindTable, special: dict[str, Classify] | None = None) -> Classify:
    """Definitions named by their `name` field: type -> (kind, body field)."""

    def classify(node: Node, in_type: bool) -> Definition | None:
        if special and node.type in special:
            return special[node.type](node, in_type)
        rule = table.get(node.type)
        if rule is None:
            return None
        name = nodes.name(node)
        if not name:
            return None
        kind, body = rule
        if kind == "function" and in_type:
            kind = "method"
        return Definition(name, kind, nodes.child(node, body) if body else None)

    return classify


def wrapper(classify_ref: list[Classify], *fields: str) -> Classify:
    """A statement that wraps one definition (`export ...`, `template <...> ...`)."""

    def classify(node: Node, in_type: bool) -> Definition | None:
        candidates = [c for c in (nodes.child(node, f) for f in fields) if c is not None]
        candidates.extend(node.named_children)
        for candidate in candidates:
            found = classify_ref[0](candidate, in_type)
            if found is not None:
                return found
        return None

    return classify
