"""HTML (first version): chrome dropped, sections under h1-h6, links and page metadata."""

from __future__ import annotations

from ingest.content_types import HTML
from ingest.processors import ChunkPolicy, processor_for

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


def process(make_content, text, policy=None):
    content = make_content(text, HTML, "guide.html")
    return processor_for(HTML).process(content, policy or ChunkPolicy())


def test_html_golden(make_content):
    doc = process(make_content, PAGE)
    assert doc.title == "Install & run"
    assert doc.text == (
        "Guide\n\nRead this first.\n\nInstall\n\none\n\ntwo\n\npip install x\n  --user"
        "\n\nLinux\n\nUse apt.\n\nRun\n\na b"
    )
    assert doc.metadata == {
        "links": ["https://example.org/a"],
        "lang": "en-GB",
        "canonical": "https://example.org/guide",
        "headings": [
            {"level": 1, "text": "Guide"},
            {"level": 2, "text": "Install"},
            {"level": 3, "text": "Linux"},
            {"level": 2, "text": "Run"},
        ],
    }
    assert [
        (c.seq, c.text, c.metadata["heading_path"], c.metadata["start_line"],
         c.metadata["end_line"])
        for c in doc.chunks
    ] == [
        (0, "Guide\n\nRead this first.", ["Guide"], 1, 3),
        (1, "Install\n\none\n\ntwo\n\npip install x\n  --user", ["Guide", "Install"], 5, 12),
        (2, "Linux\n\nUse apt.", ["Guide", "Install", "Linux"], 14, 16),
        (3, "Run\n\na b", ["Guide", "Run"], 18, 20),
    ]  # fmt: skip
    assert all(c.metadata["content_type"] == HTML for c in doc.chunks)


def test_text_before_any_heading_and_title_from_h1(make_content):
    doc = process(make_content, "<p>lead</p><h2>Two</h2><p>x</p><h1>One</h1>")
    assert doc.title == "One"
    assert doc.metadata["lang"] is None
    assert doc.metadata["canonical"] is None
    assert [(c.text, c.metadata["heading_path"]) for c in doc.chunks] == [
        ("lead", []), ("Two\n\nx", ["Two"]), ("One", ["One"])
    ]


def test_long_section_is_split(make_content):
    paragraphs = "".join(f"<p>{'word ' * 8}{i}</p>" for i in range(6))
    doc = process(make_content, f"<h1>Head</h1>{paragraphs}", SMALL)
    assert len(doc.chunks) > 1
    assert all(len(c.text) <= SMALL.max_chars for c in doc.chunks)
    assert {tuple(c.metadata["heading_path"]) for c in doc.chunks} == {("Head",)}
    assert " ".join(c.text for c in doc.chunks).split() == doc.text.split()
