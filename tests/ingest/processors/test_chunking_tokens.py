"""Chunk sizes in tokens: built-in counters, a plugged-in counter, and both bounds held."""

from __future__ import annotations

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.chunking import fits, line_windows, resolve_tokenizer, split_text
from ingest.content_types import TEXT
from ingest.errors import ProcessingError
from ingest.processors import ChunkPolicy, processor_for

WIDE = {"target_chars": 10_000, "max_chars": 10_000}  # sized by tokens alone


def count_vowels(text: str) -> int:
    """A stand-in for a model tokenizer, plugged in by dotted path."""
    return sum(ch in "aeiou" for ch in text)


def broken_counter(text: str) -> int:
    raise RuntimeError("model not loaded")


def test_built_in_counters_and_dotted_paths_resolve():
    assert resolve_tokenizer("whitespace")("a b\n c") == 3
    assert resolve_tokenizer("chars")("a b") == 3
    assert resolve_tokenizer(f"{__name__}:count_vowels") is count_vowels


@pytest.mark.parametrize(
    "spec", ["bpe", "no.such.module:count", f"{__name__}:missing", f"{__name__}:WIDE", ":x"]
)
def test_a_bad_tokenizer_is_a_configuration_error(spec):
    with pytest.raises(pydantic.ValidationError, match="tokenizer"):
        ChunkPolicy(tokenizer=spec)


def test_words_bound_the_chunks():
    policy = ChunkPolicy(tokenizer="whitespace", target_tokens=4, max_tokens=6, **WIDE)
    text = "one two three\n\nfour five\n\nsix seven eight nine ten eleven twelve thirteen"
    assert split_text(text, policy) == [
        ("one two three", 0),
        ("four five\n\nsix seven", 15),  # the long paragraph is split into words
        ("eight nine ten eleven", 36),
        ("twelve thirteen", 58),
    ]


def test_the_character_bounds_still_hold_with_a_tokenizer():
    policy = ChunkPolicy(tokenizer="whitespace", target_tokens=100, max_tokens=100,
                         target_chars=50, max_chars=100)  # fmt: skip
    pieces = split_text("word " * 100, policy)
    assert all(len(piece) <= 100 for piece, _ in pieces)


def test_a_plugged_in_counter_splits_even_inside_a_word():
    policy = ChunkPolicy(tokenizer=f"{__name__}:count_vowels", target_tokens=2, max_tokens=3,
                         **WIDE)  # fmt: skip
    pieces = split_text("aaaaaaaa bcd", policy)
    assert [piece for piece, _ in pieces] == ["aaa", "aaa", "aa bcd"]
    assert fits("aaa", policy)
    assert not fits("aaaa", policy)


def test_line_windows_follow_the_token_bounds():
    policy = ChunkPolicy(tokenizer="whitespace", target_tokens=3, max_tokens=4, **WIDE)
    lines = ["a = 1", "b = 2", "", "c = 3 + 4"]
    assert line_windows(lines, policy) == [("a = 1", 1, 1), ("b = 2", 2, 2), ("c = 3", 4, 4),
                                           ("+ 4", 4, 4)]  # fmt: skip


def test_a_failing_counter_is_a_processing_error(make_content):
    policy = ChunkPolicy(tokenizer=f"{__name__}:broken_counter")
    with pytest.raises(ProcessingError, match="model not loaded"):
        processor_for(TEXT).process(make_content("some text", TEXT), policy)


@settings(max_examples=100, deadline=None)
@given(
    text=st.text(max_size=800),
    target=st.integers(1, 40),
    extra=st.integers(0, 40),
    tokenizer=st.sampled_from(["whitespace", "chars", f"{__name__}:count_vowels"]),
)
def test_text_chunks_stay_within_the_token_bounds_and_cover_the_text(
    make_content, text, target, extra, tokenizer
):
    policy = ChunkPolicy(tokenizer=tokenizer, target_tokens=target, max_tokens=target + extra,
                         **WIDE)  # fmt: skip
    doc = processor_for(TEXT).process(make_content(text, TEXT, decode=False), policy)
    count = resolve_tokenizer(tokenizer)
    assert all(count(chunk.text) <= policy.max_tokens for chunk in doc.chunks)
    joined = "".join(chunk.text for chunk in doc.chunks)
    assert "".join(joined.split()) == "".join(doc.text.split())


MARKDOWN_DOC = "# Guide\n\n" + "\n\n".join(
    f"## Part {n}\n\n" + " ".join(f"word{n}x{i}" for i in range(120)) for n in range(4)
)
PYTHON_DOC = "\n\n".join(
    f"def f{n}(a, b):\n" + "\n".join(f"    a{i} = b + {i}" for i in range(40)) for n in range(3)
)
JAVASCRIPT_DOC = "\n\n".join(
    f"function f{n}(a) {{\n" + "\n".join(f"  let a{i} = a + {i};" for i in range(40)) + "\n}"
    for n in range(3)
)


@pytest.mark.parametrize(
    ("content_type", "source"),
    [
        ("text/markdown", MARKDOWN_DOC),
        ("text/x-python", PYTHON_DOC),
        ("text/x-javascript", JAVASCRIPT_DOC),
    ],
)
def test_markdown_and_code_chunks_stay_within_the_token_bounds(make_content, content_type, source):
    """Each section or symbol fits the character bound; only the word count splits it."""
    policy = ChunkPolicy(tokenizer="whitespace", target_tokens=40, max_tokens=60, **WIDE)
    doc = processor_for(content_type).process(make_content(source, content_type), policy)
    counts = [len(chunk.text.split()) for chunk in doc.chunks]
    assert max(counts) <= 60, counts
    untokenized = processor_for(content_type).process(
        make_content(source, content_type), ChunkPolicy(**WIDE)
    )
    assert len(doc.chunks) > len(untokenized.chunks)
