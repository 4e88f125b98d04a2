"""Code: Python by symbol (and this repository's own files), other languages by lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ingest.content_types import CODE_LANGUAGES
from ingest.processors import ChunkPolicy, processor_for

PYTHON = "text/x-python"
REPO = Path(__file__).parents[3]
SOURCE = '''\
"""Module doc.

More.
"""
import os
from . import sibling
from ..pkg.mod import name

LIMIT = 3


# Explains f.
@decorator
def f(x):
    """Return x."""
    return x


async def g():
    import json
    return json


class Small:
    """A small class."""

    def m(self):
        return 1


if __name__ == "__main__":
    f(1)
'''


def process(make_content, text, policy=None, path="pkg/sample.py", content_type=PYTHON):
    return processor_for(content_type).process(
        make_content(text, content_type, path, decode=False), policy or ChunkPolicy()
    )


def located(doc):
    return [
        (c.text.split("\n", 1)[0], c.metadata.get("symbol"), c.metadata.get("symbol_kind"),
         c.metadata["start_line"], c.metadata["end_line"], c.metadata.get("docstring"))
        for c in doc.chunks
    ]  # fmt: skip


def test_python_golden(make_content):
    doc = process(make_content, SOURCE)
    assert doc.title == "sample.py"
    assert doc.text == SOURCE
    assert doc.metadata == {
        "language": "python",
        "line_count": 33,
        "imports": ["os", ".", "..pkg.mod", "json"],
        "symbols": [
            {"name": "f", "kind": "function", "start_line": 12, "end_line": 16},
            {"name": "g", "kind": "function", "start_line": 19, "end_line": 21},
            {"name": "Small", "kind": "class", "start_line": 24, "end_line": 28},
            {"name": "Small.m", "kind": "method", "start_line": 27, "end_line": 28},
        ],
        "docstring": "Module doc.",
    }
    assert located(doc) == [
        ('"""Module doc.', "<module>", "module", 1, 9, None),
        ("# Explains f.", "f", "function", 12, 16, "Return x."),
        ("async def g():", "g", "function", 19, 21, None),
        ("class Small:", "Small", "class", 24, 28, "A small class."),
        ('if __name__ == "__main__":', "<module>", "module", 31, 32, None),
    ]
    assert doc.chunks[1].text == (
        '# Explains f.\n@decorator\ndef f(x):\n    """Return x."""\n    return x'
    )


def test_a_large_class_is_split_into_its_methods(make_content):
    method = "    def m{0}(self):\n        '''Method {0}.'''\n        return {0} * 1000"
    body = "\n\n".join(method.format(i) for i in range(3))
    text = f"class Big:\n    '''Big.'''\n\n    # about m0\n{body}\n"
    doc = process(make_content, text, ChunkPolicy(target_chars=50, max_chars=100))
    assert located(doc) == [
        ("class Big:", "Big", "class", 1, 2, None),
        ("    # about m0", "Big.m0", "method", 4, 7, "Method 0."),
        ("    def m1(self):", "Big.m1", "method", 9, 11, "Method 1."),
        ("    def m2(self):", "Big.m2", "method", 13, 15, "Method 2."),
    ]


def test_a_large_function_becomes_line_windows_named_after_it(make_content):
    text = "def long():\n" + "".join(f"    value_{i} = {i} * 12345\n" for i in range(8))
    doc = process(make_content, text, ChunkPolicy(target_chars=60, max_chars=100))
    assert {c.metadata["symbol"] for c in doc.chunks} == {"long"}
    assert [(c.metadata["start_line"], c.metadata["end_line"]) for c in doc.chunks] == [
        (1, 3),
        (4, 5),
        (6, 7),
        (8, 9),
    ]


def test_syntax_error_falls_back_to_line_windows_with_a_warning(make_content):
    text = "def ok():\n    return 1\n\ndef broken(:\n    pass\n"
    doc = process(make_content, text)
    assert doc.metadata == {
        "language": "python",
        "line_count": 6,
        "warnings": ["syntax error at line 4: invalid syntax"],
    }
    assert [(c.text, c.metadata["start_line"], c.metadata["end_line"]) for c in doc.chunks] == [
        ("def ok():\n    return 1\n\ndef broken(:\n    pass", 1, 5)
    ]
    assert "symbol" not in doc.chunks[0].metadata


@pytest.mark.parametrize(
    "text", ["x = 1\x00\n", "(" * 300 + ")" * 300, "x = " + "-" * 100_000 + "1"]
)
def test_unparseable_python_never_crashes(make_content, text):
    doc = process(make_content, text)
    assert doc.metadata["warnings"]
    assert doc.chunks


def test_other_languages_get_symbols_and_small_neighbours_merged(make_content):
    text = "package main\n\nfunc a() {\n}\n\nfunc b() {\n}\n"
    doc = process(make_content, text, ChunkPolicy(), "cmd/main.go", "text/x-go")
    assert doc.title == "main.go"
    assert doc.metadata == {
        "language": "go",
        "line_count": 8,
        "imports": [],
        "symbols": [
            {"name": "a", "kind": "function", "start_line": 3, "end_line": 4},
            {"name": "b", "kind": "function", "start_line": 6, "end_line": 7},
        ],
    }
    assert [(c.text, c.metadata["start_line"], c.metadata["end_line"]) for c in doc.chunks] == [
        ("package main\n\nfunc a() {\n}\n\nfunc b() {\n}", 1, 7)
    ]
    assert doc.chunks[0].metadata["symbols"] == ["a", "b"]


@pytest.mark.parametrize("content_type", sorted(CODE_LANGUAGES))
def test_every_code_type_has_a_processor_naming_the_language(make_content, content_type):
    doc = process(make_content, "a = 1\n", content_type=content_type)
    assert doc.metadata["language"] == CODE_LANGUAGES[content_type]


def expected_start(node: ast.stmt, lines: list[str]) -> tuple[int, set[int]]:
    """The definition's first line, and the comment lines that may precede it."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    comments = set()
    line = first - 1
    while line >= 1 and lines[line - 1].lstrip().startswith("#"):
        comments.add(line)
        line -= 1
    return first, comments


HUGE = ChunkPolicy(target_chars=10**6, max_chars=10**6)


@pytest.mark.parametrize("policy", [ChunkPolicy(), HUGE])
def test_every_top_level_symbol_of_this_repository_has_its_chunks(make_content, policy):
    files = sorted((REPO / "ingest").glob("**/*.py"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        doc = process(make_content, text, policy, path.relative_to(REPO).as_posix())
        lines = text.split("\n")
        for node in ast.parse(text).body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            named = [
                c for c in doc.chunks
                if c.metadata.get("symbol") == node.name
                or c.metadata.get("symbol", "").startswith(node.name + ".")
            ]  # fmt: skip
            assert named, f"{path}: no chunk for {node.name}"
            start = min(c.metadata["start_line"] for c in named)
            end = max(c.metadata["end_line"] for c in named)
            first, comments = expected_start(node, lines)
            assert start == first or start in comments, f"{path}: {node.name}"
            assert end == node.end_lineno, f"{path}: {node.name}"
            if policy is HUGE:
                assert len(named) == 1
                assert named[0].metadata["symbol_kind"] == (
                    "class" if isinstance(node, ast.ClassDef) else "function"
                )
