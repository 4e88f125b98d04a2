"""Comment styles, and the comment and attribute lines that lead a definition."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MAX_COMMENT_LINES = 400


@dataclass(frozen=True)
class CommentStyle:
    line: tuple[str, ...]
    block: bool = True
    attributes: tuple[str, ...] = ()
    xml_docs: bool = False


C_STYLE = CommentStyle(("//",))
HASH = CommentStyle(("#",), block=False)
_MARKERS = re.compile(r"^(?:/\*\*|/\*!|/\*|\*/|\*|///|//!|//|#|--)\s?")
_XML_TAG = re.compile(r"</?\w+[^>]*>")


def leading_comment(
    lines: list[str], start: int, floor: int, style: CommentStyle
) -> tuple[int, str | None]:
    """Move `start` up over the comment and attribute lines right above it (never
    to `floor` or above); returns the new start and the first line of the comment."""
    line = start - 1
    comment: list[str] = []
    while line > floor:
        stripped = lines[line - 1].strip()
        if not stripped:
            break
        if style.block and stripped.endswith("*/"):
            top = line
            while top > floor and line - top < _MAX_COMMENT_LINES and "/*" not in lines[top - 1]:
                top -= 1
            if top <= floor or not lines[top - 1].lstrip().startswith("/*"):
                break
            comment[:0] = [text.strip() for text in lines[top - 1 : line]]
            line = top - 1
        elif stripped.startswith(style.line) and not (line == 1 and stripped.startswith("#!")):
            comment.insert(0, stripped)
            line -= 1
        elif style.attributes and stripped.startswith(style.attributes):
            line -= 1
        else:
            break
    return line + 1, _doc_line(comment, style)


def _doc_line(comment: list[str], style: CommentStyle) -> str | None:
    for raw in comment:
        text = _MARKERS.sub("", raw).removesuffix("*/").strip()
        if style.xml_docs:
            text = _XML_TAG.sub("", text).strip()
        if text and text.strip("*/-#=! "):
            return text
    return None
