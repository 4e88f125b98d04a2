"""The block pages' "Paste this snippet" box: the UI shows the code example as
Markdown, so it must be a fenced Python block, as Prefect's own blocks write it."""

from __future__ import annotations

import ast

import pytest

from blocks import CREDENTIAL_BLOCKS, WebCredentials


@pytest.mark.parametrize("cls", CREDENTIAL_BLOCKS, ids=lambda cls: cls.__name__)
def test_code_example_is_a_fenced_python_snippet_that_parses(cls: type[WebCredentials]) -> None:
    example = cls.get_code_example()
    assert example is not None
    lines = example.strip().splitlines()
    assert lines[0] == "```python"
    assert lines[-1] == "```"
    code = "\n".join(lines[1:-1])
    ast.parse(code)
    assert f"from blocks import {cls.__name__}" in code
    assert f'{cls.__name__}.load("BLOCK_NAME")' in code
