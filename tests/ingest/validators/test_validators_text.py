"""Generic text checks: binary, undecodable, empty, NUL, control characters, long lines,
replacement characters; and a 200 MB single line handled in linear time."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from validator_helpers import codes, content, only

from ingest.models import FetchedContent
from ingest.validators import ValidationPolicy, validate
from ingest.validators.text import long_lines


def test_clean_text_passes() -> None:
    result = validate(content("hello\nworld\n"), ValidationPolicy())
    assert result.ok
    assert result.warnings == []


def test_binary_is_an_error() -> None:
    result = validate(content(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), ValidationPolicy())
    assert codes(result.errors) == ["binary"]


def test_undecodable_is_an_error() -> None:
    undecodable = content("x").model_copy(update={"text": None, "encoding": None})
    result = validate(undecodable, ValidationPolicy())
    assert codes(result.errors) == ["undecodable"]


def test_empty_is_an_error() -> None:
    assert codes(validate(content(b""), ValidationPolicy()).errors) == ["empty"]


def test_min_size_from_policy() -> None:
    result = validate(content("tiny"), ValidationPolicy(min_size=10))
    assert codes(result.errors) == ["empty"]
    assert validate(content("tiny"), ValidationPolicy(min_size=0)).ok


def test_nul_bytes_with_location() -> None:
    # After the first 8 KB, so decoding still yields text.
    text = ("x" * 99 + "\n") * 100 + "ab\x00c"
    result = validate(content(text), ValidationPolicy())
    [issue] = only(result.errors, "nul-bytes")
    assert issue.location == "line 101, column 3"


def test_control_characters_above_ratio() -> None:
    text = "a" * 9000 + "\x07\x08" * 1000
    [issue] = validate(content(text), ValidationPolicy()).errors
    assert issue.code == "control-chars"
    assert issue.location == "line 1, column 9001"
    assert "2000 control characters" in issue.message


def test_few_control_characters_pass_and_whitespace_controls_never_count() -> None:
    assert validate(content("a" * 9000 + "\x1b" * 10), ValidationPolicy()).ok
    assert validate(content("a\tb\r\n\f" * 5000), ValidationPolicy()).ok


def test_control_ratio_from_policy() -> None:
    text = "a" * 9000 + "\x1b" * 10
    assert codes(validate(content(text), ValidationPolicy(max_control_char_ratio=0.0)).errors) == [
        "control-chars"
    ]


def test_long_line_is_a_warning_with_line_number() -> None:
    text = "short\n" + "x" * 20 + "\nok\n" + "y" * 10 + "\n"
    result = validate(content(text), ValidationPolicy(max_line_length=10))
    assert result.ok
    [issue] = result.warnings
    assert (issue.code, issue.location) == ("line-too-long", "line 2")
    assert "20 characters" in issue.message


def test_long_line_warnings_are_capped_with_a_summary() -> None:
    text = ("z" * 20 + "\n") * 15
    warnings = validate(content(text), ValidationPolicy(max_line_length=10)).warnings
    assert [w.location for w in warnings[:10]] == [f"line {n}" for n in range(1, 11)]
    assert "5 more long lines (15 in all)" in warnings[10].message
    assert len(warnings) == 11


def test_replacement_characters_are_a_warning() -> None:
    result = validate(content("ok\nab\ufffdc"), ValidationPolicy())
    assert result.ok
    [issue] = result.warnings
    assert (issue.code, issue.location) == ("replacement-chars", "line 2, column 3")


@settings(database=None)
@given(
    st.lists(st.integers(min_value=0, max_value=30), max_size=30),
    st.integers(min_value=1, max_value=25),
    st.booleans(),
)
def test_long_lines_matches_a_naive_split(lengths: list[int], limit: int, trailing: bool) -> None:
    text = "\n".join("a" * n for n in lengths) + ("\n" if trailing else "")
    expected = [(i, len(line)) for i, line in enumerate(text.split("\n"), 1) if len(line) > limit]
    assert list(long_lines(text, limit)) == expected


@pytest.fixture(scope="module")
def huge_single_line() -> FetchedContent:
    return content(b"a" * 200_000_000)


def test_200_mb_single_line_is_fast(huge_single_line: FetchedContent) -> None:
    start = time.process_time()
    result = validate(huge_single_line, ValidationPolicy())
    elapsed = time.process_time() - start
    assert result.ok
    [issue] = result.warnings
    assert (issue.code, issue.location) == ("line-too-long", "line 1")
    assert elapsed < 3.0, f"took {elapsed:.2f} s of CPU"


def test_many_short_lines_are_fast() -> None:
    big = content(("word " * 15 + "\n") * 1_000_000)  # 81 MB
    start = time.process_time()
    result = validate(big, ValidationPolicy(max_line_length=1000))
    assert result.ok
    assert result.warnings == []
    assert time.process_time() - start < 3.0
