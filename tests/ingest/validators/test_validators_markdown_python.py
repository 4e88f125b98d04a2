"""Markdown front matter and the cheap Python syntax check: both warn, never reject."""

from __future__ import annotations

import pytest
from validator_helpers import content

from ingest.models import ValidationResult
from ingest.validators import ValidationPolicy, validate


def markdown(text: str) -> ValidationResult:
    return validate(content(text, "text/markdown", "page.md"), ValidationPolicy())


def python(text: str) -> ValidationResult:
    return validate(content(text, "text/x-python", "mod.py"), ValidationPolicy())


@pytest.mark.parametrize(
    "text",
    [
        "# Title\n\nNo front matter.\n",
        "---\ntitle: Hello\ntags: [a, b]\n---\n# Hello\n",
        "---\n---\nempty front matter\n",
        "\ufeff---\r\ntitle: ok\r\n...\r\nbody\r\n",
        "# Title\n\n---\n\nA thematic break, not front matter: {[\n",
    ],
)
def test_valid_markdown_passes(text: str) -> None:
    result = markdown(text)
    assert result.ok
    assert result.warnings == []


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [
        ("---\ntitle: a\n  bad: indent\n---\n# Hi\n", "line 3, column 6", "not valid YAML"),
        ("---\ntitle: [unclosed\n---\n# Hi\n", "line 3, column 1", "not valid YAML"),
        ("---\n- a\n- b\n---\n", "line 2", "a list, not a mapping"),
        ("---\ntitle: x\n# Hi\n", "line 1", "never closed"),
        ("---\n" + "[" * 10_000 + "\n---\n", "line 1", "front matter"),
    ],
)
def test_bad_front_matter_is_a_warning(text: str, location: str, message: str) -> None:
    result = markdown(text)
    assert result.ok
    [issue] = result.warnings
    assert (issue.code, issue.location) == ("front-matter", location)
    assert message in issue.message


def test_valid_python_passes() -> None:
    result = python("def f(x: int) -> int:\n    return x + 1\n")
    assert result.ok
    assert result.warnings == []


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("def f(:\n    pass\n", "line 1, column 7"),
        ("if x:\npass\n", "line 2, column 1"),
        ("(" * 1000, "line 1, column 201"),
    ],
)
def test_syntax_error_is_a_warning_with_location(text: str, location: str) -> None:
    result = python(text)
    assert result.ok
    [issue] = result.warnings
    assert (issue.code, issue.location) == ("syntax", location)


def test_pathological_python_is_a_warning_not_a_crash() -> None:
    result = python("-" * 100_000 + "1")
    assert result.ok
    assert [issue.code for issue in result.warnings] == ["syntax"]


def test_python_is_parsed_not_run() -> None:
    result = python("raise SystemExit('ran')\nimport os; os._exit(3)\n")
    assert result.ok
    assert result.warnings == []
