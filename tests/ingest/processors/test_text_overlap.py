"""Plain text with an overlap: each chunk repeats the end of the previous one, says how
much, and without that prefix the chunks still cover the text in order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.content_types import TEXT
from ingest.processors import ChunkPolicy, processor_for

OVERLAP = ChunkPolicy(target_chars=50, max_chars=100, overlap_chars=20)


def process(make_content, text, policy=OVERLAP):
    return processor_for(TEXT).process(make_content(text, TEXT, decode=False), policy)


def test_each_chunk_starts_with_the_end_of_the_previous_one(make_content):
    text = "First paragraph has some words in it.\n\nSecond one is here too, longer.\n\nThird."
    doc = process(make_content, text)
    assert [(c.text, c.metadata["overlap_chars"], c.metadata["start_line"],
             c.metadata["end_line"]) for c in doc.chunks] == [
        ("First paragraph has some words in it.", 0, 1, 1),
        ("some words in it.\n\nSecond one is here too, longer.\n\nThird.", 19, 1, 5),
    ]  # fmt: skip


def test_overlap_starts_at_a_word_and_respects_the_maximum(make_content):
    policy = ChunkPolicy(target_chars=50, max_chars=100, overlap_chars=200)
    text = " ".join(f"w{i:02}" for i in range(60))
    doc = process(make_content, text, policy)
    assert len(doc.chunks) > 1
    for previous, chunk in zip(doc.chunks, doc.chunks[1:], strict=False):
        overlap = chunk.metadata["overlap_chars"]
        assert len(chunk.text) <= policy.max_chars
        assert overlap > 0
        assert previous.text.endswith(chunk.text[:overlap].rstrip())
        assert chunk.text[0] == "w"


def test_without_overlap_there_is_no_overlap_metadata(make_content):
    doc = process(make_content, "a b c", ChunkPolicy())
    assert "overlap_chars" not in doc.chunks[0].metadata


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=1500)
    | st.lists(st.sampled_from(["", "word " * 30, "a.  b!", "x" * 130, "\u6f22\u5b57" * 70])).map(
        "\n".join
    ),
    target=st.integers(50, 300),
    extra=st.integers(0, 300),
    overlap=st.integers(0, 150),
)
def test_chunks_without_their_overlap_cover_the_text_in_order(
    make_content, text, target, extra, overlap
):
    policy = ChunkPolicy(target_chars=target, max_chars=max(100, target + extra),
                         overlap_chars=overlap)  # fmt: skip
    doc = process(make_content, text, policy)
    own = []
    lines = doc.text.split("\n")
    for n, chunk in enumerate(doc.chunks):
        cut = chunk.metadata.get("overlap_chars", 0)
        assert 0 <= cut <= overlap
        assert n > 0 or cut == 0
        assert len(chunk.text) <= policy.max_chars
        start, end = chunk.metadata["start_line"], chunk.metadata["end_line"]
        assert chunk.text in "\n".join(lines[start - 1 : end])
        if cut:
            assert doc.chunks[n - 1].text.endswith(chunk.text[:cut].rstrip())
        own.append(chunk.text[cut:])
    assert "".join("".join(own).split()) == "".join(doc.text.split())
