"""Blank lines are lines where `str.isspace()` holds, whatever the whitespace: the
paragraph and line splitters (regular expressions) agree with it."""

from __future__ import annotations

import sys

from ingest.chunking import line_windows, split_text
from ingest.processors import ChunkPolicy

SMALL = ChunkPolicy(target_chars=50, max_chars=100)
SPACES = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace() and c != 10)


def test_every_unicode_space_makes_a_blank_line():
    first, second, third = ("a" * 40, "b" * 40, "c" * 40)  # any two exceed the target
    text = f"{first}\n{SPACES}\n{second}  \n\u3000\u2003\n{third}"
    assert [piece for piece, _ in split_text(text, SMALL)] == [first, second, third]


def test_lines_keep_indentation_and_lose_trailing_space():
    code = "\n".join(f"    line_{i} = {i}  \u00a0" for i in range(12))
    windows = line_windows(code.split("\n"), SMALL, first_line=5)
    assert windows[0][0].startswith("    line_0 = 0")
    assert all(not text[-1].isspace() for text, _, _ in windows)
    assert (windows[0][1], windows[-1][2]) == (5, 16)
