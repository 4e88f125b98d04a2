"""JSON, CSV and XML: parsing, metadata, chunking, and refusing bad or unsafe input."""

from __future__ import annotations

import time

import pytest

from ingest.content_types import CSV, JSON, XML
from ingest.errors import ProcessingError
from ingest.processors import ChunkPolicy, processor_for

SMALL = ChunkPolicy(target_chars=50, max_chars=100)


def process(make_content, data, content_type, policy=None, path="doc"):
    return processor_for(content_type).process(
        make_content(data, content_type, path), policy or ChunkPolicy()
    )


def where(chunk):
    return {k: v for k, v in chunk.metadata.items() if k not in ("chunk_id", "content_type")}


# JSON


def test_json_golden(make_content):
    doc = process(make_content, '{"title": "Über", "items": [1, 2], "empty": {}}', JSON)
    assert doc.title == "Über"
    assert doc.text == '{\n  "title": "Über",\n  "items": [\n    1,\n    2\n  ],\n  "empty": {}\n}'
    assert doc.metadata == {
        "top_level_type": "object",
        "keys": ["title", "items", "empty"],
        "key_count": 3,
    }
    assert [(c.seq, c.text, where(c)) for c in doc.chunks] == [
        (0, doc.text, {"start_line": 1, "end_line": 8})
    ]


def test_json_array_is_chunked_in_line_windows(make_content):
    doc = process(make_content, "[" + ", ".join(['"abcdefghij"'] * 8) + "]", JSON, SMALL)
    assert doc.metadata == {"top_level_type": "array", "length": 8}
    assert doc.title is None
    assert [(c.metadata["start_line"], c.metadata["end_line"]) for c in doc.chunks] == [
        (1, 4),
        (5, 7),
        (8, 10),
    ]
    assert "".join(c.text for c in doc.chunks).replace("\n", "") == doc.text.replace("\n", "")


@pytest.mark.parametrize("data", ["[" * 100_000, '{"a":' * 100_000, "[" * 100_000 + "]" * 100_000])
def test_deep_json_is_a_processing_error_quickly(make_content, data):
    started = time.perf_counter()
    with pytest.raises(ProcessingError, match="nested too deeply|invalid JSON") as caught:
        process(make_content, data, JSON)
    assert time.perf_counter() - started < 2
    assert caught.value.processor_id == "json"
    assert caught.value.uri == "file:///root/doc"


@pytest.mark.parametrize("data", ["{", "", "[1,]", "1" * 5000, "{'a': 1}"])
def test_invalid_json_is_a_processing_error(make_content, data):
    with pytest.raises(ProcessingError, match="invalid JSON"):
        process(make_content, data, JSON)


# CSV


def test_csv_golden(make_content):
    data = (
        'name;city;note\r\nAnn;Oslo;"multi\r\nline"\r\nBob;Rome;x\r\n\r\n'
        "Cy;Nice;y\r\nDee;Lima;z\r\n"
    )
    doc = process(make_content, data, CSV, SMALL, "people.csv")
    assert doc.metadata == {"columns": ["name", "city", "note"], "row_count": 4, "delimiter": ";"}
    assert doc.text == 'name;city;note\nAnn;Oslo;"multi\nline"\nBob;Rome;x\nCy;Nice;y\nDee;Lima;z'
    assert [(c.text, where(c)) for c in doc.chunks] == [
        ('name;city;note\nAnn;Oslo;"multi\nline"\nBob;Rome;x',
         {"start_row": 1, "end_row": 2, "start_line": 2, "end_line": 4}),
        ("name;city;note\nCy;Nice;y\nDee;Lima;z",
         {"start_row": 3, "end_row": 4, "start_line": 5, "end_line": 6}),
    ]  # fmt: skip


def test_tsv_uses_tabs_and_ragged_rows_are_kept(make_content):
    doc = process(make_content, "a\tb\n1\n2\t3\t4\n", CSV, path="t.tsv")
    assert doc.metadata == {"columns": ["a", "b"], "row_count": 2, "delimiter": "\t"}
    assert [c.text for c in doc.chunks] == ["a\tb\n1\n2\t3\t4"]


def test_csv_without_a_clear_dialect_falls_back_to_commas(make_content):
    doc = process(make_content, "single\nvalue one\n", CSV)
    assert doc.metadata == {"columns": ["single"], "row_count": 1, "delimiter": ","}


def test_csv_header_only_is_one_chunk(make_content):
    doc = process(make_content, "a,b,c\n", CSV)
    assert [(c.text, where(c)) for c in doc.chunks] == [("a,b,c", {"start_line": 1, "end_line": 1})]


def test_over_long_csv_row_is_split(make_content):
    doc = process(make_content, "h\n" + "word " * 60 + "\n", CSV, SMALL)
    assert all(len(c.text) <= SMALL.max_chars for c in doc.chunks)
    assert {(c.metadata["start_row"], c.metadata["end_row"]) for c in doc.chunks} == {(1, 1)}


# XML


def test_xml_golden(make_content):
    data = (
        b"<?xml version='1.0' encoding='iso-8859-1'?>\n"
        b"<feed xmlns='urn:feed' xmlns:x='urn:x'><title>Caf\xe9 news</title>"
        b"<entry x:id='1'>first <b>bold</b> tail</entry><entry/>\n</feed>"
    )
    doc = process(make_content, data, XML)
    assert doc.title == "Café news"
    assert doc.text == "Café news\nfirst tail\nbold"
    assert doc.metadata == {
        "root": "{urn:feed}feed",
        "element_count": 5,
        "namespaces": ["urn:feed", "urn:x"],
    }
    assert [(c.text, where(c)) for c in doc.chunks] == [
        (doc.text, {"start_line": 1, "end_line": 3})
    ]


def test_xml_entity_declaration_is_refused_without_expansion(make_content):
    lol = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
        + "]><lolz>&lol9;</lolz>"
    ).replace("&lol0;", "&lol;")
    started = time.perf_counter()
    with pytest.raises(ProcessingError, match="unsafe XML refused") as caught:
        process(make_content, lol, XML)
    assert time.perf_counter() - started < 1
    assert caught.value.processor_id == "xml"


def test_xml_external_entity_is_refused(make_content):
    data = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    with pytest.raises(ProcessingError, match="unsafe XML refused"):
        process(make_content, data, XML)


def test_xml_doctype_without_entities_is_fine(make_content):
    doc = process(make_content, "<!DOCTYPE r [<!ELEMENT r (#PCDATA)>]><r>ok</r>", XML)
    assert doc.text == "ok"


@pytest.mark.parametrize("data", ["", "<a>", "<a></b>", "not xml", "<a>&undefined;</a>"])
def test_invalid_xml_is_a_processing_error(make_content, data):
    with pytest.raises(ProcessingError, match="invalid XML"):
        process(make_content, data, XML)
