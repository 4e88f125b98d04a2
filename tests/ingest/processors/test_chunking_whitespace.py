"""Blank lines are lines where `str.isspace()` holds, whatever the whitespace: the
paragraph and line splitters (regular expressions) agree with it."""

from __future__ import annotations

import random
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


def test_line_windows_by_characters_match_the_unit_by_unit_packing():
    # Characters alone take the fast path (lines joined by bisecting line starts); a
    # character tokenizer with bounds that never bind takes the unit-by-unit path.
    rng = random.Random(19)
    pieces = ["a", "bb cc", "word. Next one! ", " ", "\t", "\x0c", "\u2028", "é", "。"]
    pieces += ["x" * 30, "y" * 120, "z " * 40, ""]
    for _ in range(300):
        lines = [
            "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
            for _ in range(rng.randint(1, 40))
        ]
        sizes = {"target_chars": rng.choice([50, 60, 300]), "max_chars": rng.choice([100, 400])}
        by_chars = ChunkPolicy(**sizes)
        unit_by_unit = ChunkPolicy(
            **sizes, tokenizer="chars", target_tokens=10**6, max_tokens=10**6
        )
        assert line_windows(lines, by_chars, 3) == line_windows(lines, unit_by_unit, 3), lines
