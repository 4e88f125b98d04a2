"""Reading tree-sitter nodes for symbol rules: text, fields, names, bare type names."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node


def text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return " ".join(node.text.decode("utf-8", "replace").split())


def child(node: Node, name: str) -> Node | None:
    return node.child_by_field_name(name)


def name(node: Node) -> str:
    return text(child(node, "name"))


_GENERIC = re.compile(r"<[^<>]*>|\[[^\[\]]*\]")


def bare_type(text: str) -> str:
    """`Wrapper<T>` -> `Wrapper`, `*Pair[T]` -> `Pair`, `a::B` -> `a.B`."""
    for _ in range(8):
        stripped = _GENERIC.sub("", text)
        if stripped == text:
            break
        text = stripped
    text = text.replace("::", ".").replace("\\", ".").strip(" *&")
    return text.removeprefix("mut ").removeprefix("dyn ").strip()


def unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        return text[1:-1]
    return text.strip("<>")
