"""The first docstring line of Python symbols: what `ast.get_docstring` gives, cleaned,
without cleaning the whole docstring."""

from __future__ import annotations

import ast

import pytest

from ingest.processors.code.python_symbols import docstring_line

BODIES = [
    '"""One line."""',
    '"""\n\n    Starts after blank lines.\n    More.\n    """',
    '"""\tTab\tinside and before."""',
    '"""   \n\t\n"""',
    '""""""',
    "'''\u2028\u00a0Unicode spaces first\u3000\n  next'''",
    '"""First  \n\n  second"""',
    'r"""Raw \\n text"""',
    "b'bytes are not a docstring'",
    "42",
    'f"not a {docstring}"',
    "x = 1",
    "pass",
]


def _cleaned_first_line(node: ast.AST) -> str | None:
    docstring = ast.get_docstring(node)  # type: ignore[arg-type]
    if not docstring:
        return None
    return docstring.strip().split("\n", 1)[0].strip() or None


@pytest.mark.parametrize("body", BODIES)
def test_docstring_line_is_the_first_line_ast_get_docstring_gives(body: str) -> None:
    source = f"{body}\n\ndef f():\n    {body}\n\nclass C:\n    {body}\n"
    tree = ast.parse(source)
    nodes = [tree, *tree.body[-2:]]
    assert [docstring_line(node) for node in nodes] == [  # type: ignore[arg-type]
        _cleaned_first_line(node) for node in nodes
    ]


def test_docstring_line_of_a_multi_line_docstring() -> None:
    tree = ast.parse('def f():\n    """\n\tSummary here.\n\n    Details.\n    """\n')
    assert docstring_line(tree.body[0]) == "Summary here."  # type: ignore[arg-type]
