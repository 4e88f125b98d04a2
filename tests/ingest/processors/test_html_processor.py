"""HTML: main content by trafilatura, sections under h1-h6, page facts and every link."""

from __future__ import annotations

import time

import pytest

from ingest.content_types import HTML
from ingest.models import SourceItem
from ingest.processors import ChunkPolicy, html_content, processor_for

SMALL = ChunkPolicy(target_chars=50, max_chars=100)
PAGE = """<!doctype html>
<html lang="en-GB">
<head>
  <title> Install &amp; run </title>
  <link rel="stylesheet" href="/s.css">
  <link rel="canonical" href="https://example.org/guide">
  <style>body { color: red }</style>
</head>
<body>
  <header><h1>Site name</h1><a href="/home">Home</a></header>
  <nav><a href="/menu">Menu</a></nav>
  <main>
    <h1>Guide</h1>
    <p>Read <a href="https://example.org/a">this</a>
       first.</p>
    <h2>Install</h2>
    <ul><li>one</li><li>two</li></ul>
    <pre>pip install x
  --user</pre>
    <h3>Linux</h3>
    <p>Use apt.</p>
    <script>document.write("no")</script>
    <h2>Run</h2>
    <table><tr><th>a</th><th>b</th></tr></table>
  </main>
  <aside>Related</aside>
  <footer>Copyright <a href="/legal">legal</a></footer>
</body>
</html>
"""
NO_FRAME = """<html><head><title>T</title><base href="/docs/"></head><body>
<div class="menu"><a href="intro.html">Intro</a> <a href="#top">Top</a>
<a href="mailto:x@y.z">M</a></div>
<div id="content"><h1>Manual</h1><p>First <b>bold</b> words.<br>Second line.</p>
<h2>Setup</h2><p>Run <code>make</code> now.</p><pre><code>make all
  make test</code></pre>
<blockquote><p>Quoted.</p></blockquote></div>
<div class="footer">(c) 2024 <a href="https://other.org/x#frag">other</a></div></body></html>"""
BLOG = """<html lang="de"><head><meta property="og:title" content="OG title">
<link rel="canonical" href="/post/1"></head><body>
<header><a href="/">Home</a></header>
<div class="cookie-banner">We use cookies. <a href="/privacy">Privacy</a></div>
<article><h1>Post</h1><p>Some long paragraph of actual content that matters to readers.</p>
<h2>Details</h2><ul><li>alpha<ul><li>nested</li></ul></li><li>beta</li></ul>
<table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>1</td></tr></table></article>
<aside><h2>Related</h2><a href="/other">Other</a></aside>
<footer>Footer text</footer></body></html>"""


def process(make_content, text, policy=None, uri=None):
    content = make_content(text, HTML, "guide.html", decode=False)
    if uri is not None:
        content = content.model_copy(update={"item": SourceItem(source_id="test", uri=uri)})
    return processor_for(HTML).process(content, policy or ChunkPolicy())


def located(doc):
    return [
        (c.seq, c.text, c.metadata["heading_path"], c.metadata["start_line"],
         c.metadata["end_line"])
        for c in doc.chunks
    ]  # fmt: skip


def test_html_golden(make_content):
    doc = process(make_content, PAGE)
    assert doc.title == "Install & run"
    assert doc.text == (
        "Guide\n\nRead this first.\n\nInstall\n\n- one\n- two\n\npip install x\n  --user"
        "\n\nLinux\n\nUse apt.\n\nRun\n\na | b"
    )
    assert doc.metadata == {
        # every link of the page, navigation included; resolved against the file's URI
        "links": ["file:///home", "file:///menu", "https://example.org/a", "file:///legal"],
        "lang": "en-GB",
        "canonical": "https://example.org/guide",
        "headings": [
            {"level": 1, "text": "Guide"},
            {"level": 2, "text": "Install"},
            {"level": 3, "text": "Linux"},
            {"level": 2, "text": "Run"},
        ],
    }
    assert located(doc) == [
        (0, "Guide\n\nRead this first.", ["Guide"], 1, 3),
        (1, "Install\n\n- one\n- two\n\npip install x\n  --user", ["Guide", "Install"], 5, 11),
        (2, "Linux\n\nUse apt.", ["Guide", "Install", "Linux"], 13, 15),
        (3, "Run\n\na | b", ["Guide", "Run"], 17, 19),
    ]  # fmt: skip
    assert all(c.metadata["content_type"] == HTML for c in doc.chunks)


def test_boilerplate_is_dropped_and_links_resolved_against_the_page_url(make_content):
    doc = process(make_content, BLOG, uri="https://example.org/blog/p")
    assert doc.title == "OG title"
    assert doc.text == (
        "Post\n\nSome long paragraph of actual content that matters to readers.\n\n"
        "Details\n\n- alpha\n  - nested\n- beta\n\nk | v\na | 1"
    )
    assert doc.metadata == {
        "links": ["https://example.org/", "https://example.org/privacy",
                  "https://example.org/other"],
        "lang": "de",
        "canonical": "https://example.org/post/1",
        "headings": [{"level": 1, "text": "Post"}, {"level": 2, "text": "Details"}],
    }  # fmt: skip
    assert located(doc) == [
        (0, "Post\n\nSome long paragraph of actual content that matters to readers.",
         ["Post"], 1, 3),
        (1, "Details\n\n- alpha\n  - nested\n- beta\n\nk | v\na | 1", ["Post", "Details"], 5, 12),
    ]  # fmt: skip


def test_a_page_without_main_or_article_keeps_its_headings(make_content):
    doc = process(make_content, NO_FRAME, uri="https://example.org/a/page.html")
    assert doc.title == "T"
    assert doc.metadata["links"] == ["https://example.org/docs/intro.html", "https://other.org/x"]
    assert located(doc) == [
        (0, "Manual\n\nFirst bold words.\nSecond line.", ["Manual"], 1, 4),
        (1, "Setup\n\nRun make now.\n\nmake all\n  make test\n\nQuoted.", ["Manual", "Setup"],
         6, 13),
    ]  # fmt: skip


def test_text_before_any_heading_and_title_from_h1(make_content):
    doc = process(make_content, "<p>lead</p><h1>One</h1><p>x</p><h2>Two</h2><p>y</p>")
    assert doc.title == "One"
    assert doc.metadata["lang"] is None
    assert doc.metadata["canonical"] is None
    assert [(c.text, c.metadata["heading_path"]) for c in doc.chunks] == [
        ("lead", []),
        ("One\n\nx", ["One"]),
        ("Two\n\ny", ["One", "Two"]),
    ]


def test_long_section_is_split_at_blocks(make_content):
    paragraphs = "".join(f"<p>{'word ' * 8}{i}</p>" for i in range(6))
    doc = process(make_content, f"<main><h1>Head</h1>{paragraphs}</main>", SMALL)
    blocks = [f"{'word ' * 8}{i}" for i in range(6)]
    assert [c.text for c in doc.chunks] == ["Head\n\n" + blocks[0], *blocks[1:]]
    assert {tuple(c.metadata["heading_path"]) for c in doc.chunks} == {("Head",)}
    assert [c.metadata["start_line"] for c in doc.chunks] == [1, 5, 7, 9, 11, 13]


def test_large_pages_are_read_by_a_linear_walk(make_content, monkeypatch):
    monkeypatch.setattr(html_content, "MAX_EXTRACTOR_BLOCKS", 0)
    monkeypatch.setattr(html_content, "_MIN_BLOCKS", 0)
    doc = process(make_content, BLOG, uri="https://example.org/blog/p")
    assert doc.metadata["headings"] == [{"level": 1, "text": "Post"},
                                        {"level": 2, "text": "Details"}]  # fmt: skip
    assert located(doc) == [
        (0, "Post\n\nSome long paragraph of actual content that matters to readers.",
         ["Post"], 1, 3),
        (1, "Details\n\n- alpha\n- nested\n- beta\n\nk | v\na | 1", ["Post", "Details"], 5, 12),
    ]  # fmt: skip


@pytest.mark.parametrize("text", ["", "   ", "<!-- only -->", "<nav>menu</nav>", "\x00<p>\x00</p>"])
def test_pages_without_content_give_an_empty_document(make_content, text):
    doc = process(make_content, text)
    assert doc.chunks == [] or all(c.text.strip() for c in doc.chunks)
    assert doc.metadata["headings"] == []


GARBAGE = {
    "nested": "<div>" * 100_000 + "x" + "</div>" * 100_000,
    "paragraphs": "<article>" + "<p>para text <a href='/x'>l</a> more.</p>" * 25_000,
    "divs": "".join(f"<div>text {i} here</div>" for i in range(40_000)),
    "headings": "".join(f"<h2>h{i}</h2><p>p{i} text.</p>" for i in range(20_000)),
    "soup": "<p><a <b></td><tr x=\"'>&amp;&#99999999;<![CDATA[<h1" * 20_000,
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_large_or_broken_html_takes_about_a_second_per_megabyte(make_content, name):
    """Linear, not quadratic: CPU time (not wall time, which a loaded machine stretches)
    within a generous bound that any superlinear blow-up would exceed many times over."""
    text = GARBAGE[name]
    started = time.process_time()
    process(make_content, text)
    seconds = time.process_time() - started
    assert seconds < 0.5 + 2.0 * len(text) / 1e6, f"{name}: {seconds:.2f} s of CPU"
