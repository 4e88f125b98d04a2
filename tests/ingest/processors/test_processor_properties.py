"""Properties every processor keeps on arbitrary input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.content_types import CODE_LANGUAGES, CSV, HTML, JSON, MARKDOWN, TEXT, XML
from ingest.errors import ProcessingError
from ingest.models import ProcessedDocument
from ingest.processors import ChunkPolicy, processor_for

ALL_TYPES = [TEXT, MARKDOWN, HTML, JSON, CSV, XML, *CODE_LANGUAGES]
SMALL = ChunkPolicy(target_chars=60, max_chars=120)
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
policies = st.builds(
    lambda target, extra: ChunkPolicy(target_chars=target, max_chars=max(100, target + extra)),
    st.integers(50, 400),
    st.integers(0, 400),
)


def non_space(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


@pytest.mark.parametrize("content_type", ALL_TYPES)
@PROPERTY
@given(text=st.text(max_size=600))
def test_any_text_gives_a_document_or_a_processing_error(make_content, content_type, text):
    try:
        doc = processor_for(content_type).process(make_content(text, content_type), SMALL)
    except ProcessingError as exc:
        error: ProcessingError | None = exc
    else:
        error = None
    if error is not None:
        assert error.uri == "file:///root/doc.txt"
        assert error.processor_id == processor_for(content_type).name
        return
    assert isinstance(doc, ProcessedDocument)
    assert [chunk.seq for chunk in doc.chunks] == list(range(len(doc.chunks)))
    for chunk in doc.chunks:
        assert chunk.text.strip()
        assert chunk.metadata["content_type"] == content_type
        assert len(chunk.metadata["chunk_id"]) == 32
        if "start_line" in chunk.metadata:
            assert 1 <= chunk.metadata["start_line"] <= chunk.metadata["end_line"]


@pytest.mark.parametrize("content_type", [TEXT, MARKDOWN])
@PROPERTY
@given(
    text=st.text(st.characters(codec="utf-8"), max_size=1500)
    | st.lists(st.sampled_from(["# H", "## I", "", "word " * 30, "```", "- item", "a.  b!"])).map(
        "\n".join
    ),
    policy=policies,
)
def test_chunks_cover_the_text_in_order(make_content, content_type, text, policy):
    content = make_content(text, content_type, decode=False)
    doc = processor_for(content_type).process(content, policy)
    assert non_space("".join(chunk.text for chunk in doc.chunks)) == non_space(doc.text)
    assert all(len(chunk.text) <= policy.max_chars for chunk in doc.chunks)


@PROPERTY
@given(text=st.text(max_size=1500), policy=policies)
def test_text_chunks_are_found_on_their_lines(make_content, text, policy):
    doc = processor_for(TEXT).process(make_content(text, TEXT, decode=False), policy)
    lines = doc.text.split("\n")
    for chunk in doc.chunks:
        start, end = chunk.metadata["start_line"], chunk.metadata["end_line"]
        assert chunk.text in "\n".join(lines[start - 1 : end])
    assert non_space("".join(chunk.text for chunk in doc.chunks)) == non_space(doc.text)
    assert all(len(chunk.text) <= policy.max_chars for chunk in doc.chunks)


def located(chunk) -> tuple[str, str]:
    where = {k: v for k, v in chunk.metadata.items() if k not in ("chunk_id", "docstring")}
    return chunk.text, repr(sorted(where.items()))


@pytest.mark.parametrize("content_type", [TEXT, MARKDOWN, HTML, "text/x-python", "text/x-go"])
@settings(max_examples=50, deadline=None)
@given(text=st.text(min_size=1, max_size=400), extra=st.text(min_size=1, max_size=20))
def test_chunk_ids_are_stable_and_follow_the_text(make_content, content_type, text, extra):
    processor = processor_for(content_type)

    def chunks(source: str) -> list:
        return processor.process(make_content(source, content_type, decode=False), SMALL).chunks

    first = {located(chunk): chunk.metadata["chunk_id"] for chunk in chunks(text)}
    assert first == {located(chunk): chunk.metadata["chunk_id"] for chunk in chunks(text)}
    for chunk in chunks(extra + "x\n\n" + text):
        if located(chunk) in first:
            assert chunk.metadata["chunk_id"] == first[located(chunk)]
        else:
            assert chunk.metadata["chunk_id"] not in first.values()


FRAGMENTS = {
    HTML: ["<html lang='x'>", "<h1>", "</h1>", "<h3>", "<p>", "</p>", "<nav>", "</nav>", "<pre>",
           "</pre>", "<a href='u'>", "<!--", "-->", "<!", "<![", "<![CDATA[", "]]>", "</", "<?",
           "&#", "&amp;", "text. ", "\n\n", "<script>", "</script>", "<link rel=canonical>",
           "<title>", "</title>", "<br/>", "<td>", "<", ">", "'", '"'],
    XML: ["<?xml version='1.0'?>", "<a>", "</a>", "<b x='1'>", "</b>", "<!DOCTYPE a [", "]>",
          "<!ENTITY e 'v'>", "&e;", "&amp;", "text", "<c/>", "<n:d xmlns:n='urn:n'>", "</n:d>"],
    JSON: ["{", "}", "[", "]", '"k"', ":", ",", "1", "1e999", "-0", "null", "true", '"\\ud800"',
           '"x"', " ", "\n", "NaN", "9" * 5000],
    CSV: ["a", ",", ";", "\t", "|", '"', "\n", "\r\n", "x y", "'", '""', "1.5"],
    "text/x-python": ["def f():\n", "class C:\n", "    pass\n", "    def m(self):\n",
                      "        return 1\n", "@dec\n", "# comment\n", "import os\n",
                      "from . import x\n", "x = 1\n", '"""doc"""\n', "\n", "(", ")", "\x00",
                      "async def g():\n", "if x:\n", "\t", "'''"],
    MARKDOWN: ["---\n", "title: t\n", "a: [\n", "# H\n", "## I\n", "Setext\n===\n", "```\n",
               "| a | b |\n|---|---|\n", "> quote\n", "- item\n", "[l](u)", "![i](s)", "\n",
               "text. ", "[r]: /u\n", "    code\n", "<div>\n"],
}  # fmt: skip


@pytest.mark.parametrize("content_type", sorted(FRAGMENTS))
@PROPERTY
@given(data=st.data())
def test_format_shaped_input_gives_a_document_or_a_processing_error(
    make_content, content_type, data
):
    text = data.draw(st.lists(st.sampled_from(FRAGMENTS[content_type]), max_size=40).map("".join))
    policy = data.draw(policies)
    try:
        doc = processor_for(content_type).process(make_content(text, content_type), policy)
    except ProcessingError:
        return
    assert [chunk.seq for chunk in doc.chunks] == list(range(len(doc.chunks)))
    for chunk in doc.chunks:
        assert chunk.text.strip()
        assert len(chunk.text) <= policy.max_chars


@pytest.mark.parametrize("content_type", ["text/x-python", "text/x-rust"])
@PROPERTY
@given(data=st.data())
def test_code_chunks_cover_the_text_in_order(make_content, content_type, data):
    text = data.draw(
        st.lists(st.sampled_from(FRAGMENTS["text/x-python"] + ["word " * 30 + "\n"]))
        .map("".join)
        .filter(lambda t: "\x00" not in t)
        | st.text(max_size=500)
    )
    policy = data.draw(policies)
    doc = processor_for(content_type).process(
        make_content(text, content_type, decode=False), policy
    )
    assert non_space("".join(chunk.text for chunk in doc.chunks)) == non_space(doc.text)
    lines = doc.text.split("\n")
    for chunk in doc.chunks:
        assert len(chunk.text) <= policy.max_chars
        start, end = chunk.metadata["start_line"], chunk.metadata["end_line"]
        assert chunk.text in "\n".join(lines[start - 1 : end])
