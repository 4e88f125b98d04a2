"""The format-neutral chunking helpers."""

from __future__ import annotations

from ingest.chunking import ChunkList, LineIndex, chunk_id, clean_lines, line_windows, split_text
from ingest.processors import ChunkPolicy

SMALL = ChunkPolicy(target_chars=50, max_chars=100)


def test_chunk_id_is_stable_short_and_depends_on_every_part():
    first = chunk_id("file:///a", "1-2", "text")
    assert first == chunk_id("file:///a", "1-2", "text")
    assert len(first) == 32
    assert int(first, 16) >= 0
    assert len({first, chunk_id("file:///b", "1-2", "text"), chunk_id("file:///a", "1-3", "text"),
                chunk_id("file:///a", "1-2", "texts")}) == 4  # fmt: skip


def test_chunk_list_numbers_chunks_skips_blank_ones_and_keeps_ids_unique():
    chunks = ChunkList("file:///a", "text/plain")
    chunks.add("same", start_line=1, end_line=1)
    chunks.add("  \n ", start_line=2, end_line=2)
    chunks.add("same", {"note": "x"}, start_line=1, end_line=1)
    assert [c.seq for c in chunks.chunks] == [0, 1]
    first, second = (c.metadata for c in chunks.chunks)
    assert first["chunk_id"] != second["chunk_id"]
    assert second == {"chunk_id": second["chunk_id"], "content_type": "text/plain",
                      "start_line": 1, "end_line": 1, "note": "x"}  # fmt: skip


def test_clean_lines_normalises_newlines_and_trailing_space():
    assert clean_lines("a  \r\nb\t\rc \n") == "a\nb\nc\n"


def test_line_index_maps_offsets_to_lines():
    index = LineIndex("ab\ncd\n\nef", first_line=10)
    assert [index.line_of(i) for i in (0, 2, 3, 6, 7, 8)] == [10, 10, 11, 12, 13, 13]
    assert index.lines_of(3, 9) == (11, 13)


def test_split_text_packs_paragraphs_up_to_the_target():
    text = "aaa aaa\n\nbbb bbb\n\n" + "c" * 45 + "\n\ndddd"
    assert split_text(text, SMALL) == [
        ("aaa aaa\n\nbbb bbb", 0),
        ("c" * 45, 18),
        ("dddd", 65),
    ]


def test_split_text_splits_long_paragraphs_at_sentences_then_words_then_hard():
    sentences = "One two three four five six seven. " * 3
    assert [piece for piece, _ in split_text(sentences.strip(), SMALL)] == [
        "One two three four five six seven."
    ] * 3
    words = " ".join(["word"] * 30)  # 149 characters, no sentence end
    pieces = split_text(words, SMALL)
    assert [len(p) for p, _ in pieces] == [49, 49, 49]
    hard = split_text("x" * 250, SMALL)
    assert hard == [("x" * 100, 0), ("x" * 100, 100), ("x" * 50, 200)]


def test_split_text_handles_a_target_above_the_maximum():
    policy = ChunkPolicy(target_chars=5000, max_chars=100)
    assert all(len(piece) <= 100 for piece, _ in split_text("word " * 200, policy))


def test_line_windows_break_at_blank_lines_and_report_line_ranges():
    lines = ["a = 1", "b = 2", "", "c" * 40, "", "d" * 30, "d" * 30, "", "e = 5"]
    assert line_windows(lines, SMALL, first_line=3) == [
        ("a = 1\nb = 2", 3, 4),
        ("c" * 40, 6, 6),
        ("d" * 30, 8, 8),  # a block over the target is cut between lines
        ("d" * 30 + "\n\ne = 5", 9, 11),
    ]
