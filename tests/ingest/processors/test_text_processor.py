"""Plain text: cleaning, title, paragraph chunks with line ranges."""

from __future__ import annotations

from ingest.content_types import TEXT
from ingest.models import document_id
from ingest.processors import ChunkPolicy, processor_for
from ingest.processors.text import TextProcessor

SMALL = ChunkPolicy(target_chars=50, max_chars=100)


def where(chunk):
    return {k: v for k, v in chunk.metadata.items() if k != "chunk_id"}


def test_text_is_cleaned_titled_and_chunked_by_paragraph(make_content):
    data = b"Guide\r\n\r\nFirst para line one.   \r\nline two.\r\rSecond paragraph here.\n\n\n"
    doc = TextProcessor().process(make_content(data, TEXT, "notes/guide.txt"), SMALL)

    assert doc.id == document_id("test", "file:///root/notes/guide.txt")
    assert (doc.source, doc.uri, doc.content_type) == ("test", "file:///root/notes/guide.txt", TEXT)
    assert doc.title == "Guide"
    assert doc.text == "Guide\n\nFirst para line one.\nline two.\n\nSecond paragraph here."
    assert doc.metadata == {"line_count": 6}
    assert [(c.seq, c.text, where(c)) for c in doc.chunks] == [
        (0, "Guide\n\nFirst para line one.\nline two.",
         {"content_type": TEXT, "start_line": 1, "end_line": 4}),
        (1, "Second paragraph here.", {"content_type": TEXT, "start_line": 6, "end_line": 6}),
    ]  # fmt: skip


def test_long_paragraph_is_split_at_sentences_on_its_lines(make_content):
    sentence = "One two three four five six seven."
    text = "Intro\n\n" + " ".join([sentence] * 3) + "\nlast line"
    doc = processor_for(TEXT).process(make_content(text, TEXT), SMALL)
    assert [(c.text, c.metadata["start_line"], c.metadata["end_line"]) for c in doc.chunks] == [
        ("Intro\n\n" + sentence, 1, 3),
        (sentence, 3, 3),
        (sentence + "\nlast line", 3, 4),
    ]


def test_title_is_none_when_the_first_line_is_long(make_content):
    doc = processor_for(TEXT).process(make_content("\n\n" + "x" * 121 + "\nmore", TEXT), SMALL)
    assert doc.title is None
    assert doc.chunks[0].metadata["start_line"] == 3


def test_empty_text_has_no_chunks(make_content):
    doc = processor_for(TEXT).process(make_content(b"", TEXT), SMALL)
    assert (doc.text, doc.title, doc.chunks) == ("", None, [])
