"""Where a Markdown file's YAML front matter is: a `---` first line, up to the next
`---` or `...` line at the start of a line. The validator and the processor find it
the same way."""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPEN = re.compile(r"\A\ufeff?---[ \t]*\r?\n")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class FrontMatter:
    raw: str  # the YAML between the markers
    end: int  # offset of the body: after the closing line and its newline
    lines: int  # lines taken by the block, markers included


def opens_front_matter(text: str) -> bool:
    return _OPEN.match(text) is not None


def find_front_matter(text: str) -> FrontMatter | None:
    """The front matter at the start of `text`; None when there is none or it is
    never closed."""
    opening = _OPEN.match(text)
    if opening is None:
        return None
    closing = _CLOSE.search(text, opening.end())
    if closing is None:
        return None
    end = closing.end()
    if text.startswith("\n", end):
        end += 1
    lines = text.count("\n", 0, closing.end()) + 1
    return FrontMatter(text[opening.end() : closing.start()], end, lines)
