"""Markdown: front matter, title, links and images, chunks per heading section."""

from __future__ import annotations

from ingest.content_types import MARKDOWN
from ingest.processors import ChunkPolicy, processor_for

SMALL = ChunkPolicy(target_chars=50, max_chars=100)
GUIDE = """\
---
title: The Guide
tags: [a, b]
date: 2024-01-02
---
Intro with a [link](https://example.org/a).

# Guide

Some text.

## Install

```sh
pip install x
```

### Linux

![diagram](img/linux.png)

| a | b |
|---|---|
| 1 | 2 |

Appendix
========

[ref]: https://example.org/ref
See [ref] and [again](https://example.org/a).
"""


def process(make_content, text, policy=None):
    return processor_for(MARKDOWN).process(
        make_content(text, MARKDOWN, "docs/guide.md"), policy or ChunkPolicy()
    )


def located(doc):
    return [
        (c.seq, c.text, c.metadata["heading_path"], c.metadata["start_line"],
         c.metadata["end_line"])
        for c in doc.chunks
    ]  # fmt: skip


def test_markdown_golden(make_content):
    doc = process(make_content, GUIDE)
    assert doc.title == "The Guide"
    assert doc.text == GUIDE.split("---\n", 2)[2].rstrip()
    assert doc.metadata == {
        "front_matter": {"title": "The Guide", "tags": ["a", "b"], "date": "2024-01-02"},
        "headings": [
            {"level": 1, "text": "Guide", "line": 8},
            {"level": 2, "text": "Install", "line": 12},
            {"level": 3, "text": "Linux", "line": 18},
            {"level": 1, "text": "Appendix", "line": 26},
        ],
        "links": ["https://example.org/a", "https://example.org/ref"],
        "images": ["img/linux.png"],
    }
    assert located(doc) == [
        (0, "Intro with a [link](https://example.org/a).", [], 6, 6),
        (1, "# Guide\n\nSome text.", ["Guide"], 8, 10),
        (2, "## Install\n\n```sh\npip install x\n```", ["Guide", "Install"], 12, 16),
        (3, "### Linux\n\n![diagram](img/linux.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |",
         ["Guide", "Install", "Linux"], 18, 24),
        (4, "Appendix\n========\n\n[ref]: https://example.org/ref\n"
            "See [ref] and [again](https://example.org/a).", ["Appendix"], 26, 30),
    ]  # fmt: skip
    assert all(c.metadata["content_type"] == MARKDOWN for c in doc.chunks)


def test_broken_front_matter_is_a_warning_and_the_body_is_processed(make_content):
    doc = process(make_content, "---\ntitle: [unclosed\n---\n# Body\n\ntext\n")
    assert "front_matter" not in doc.metadata
    assert doc.metadata["warnings"] == [
        "invalid front matter, ignored: expected ',' or ']', but got '<stream end>' at line 3"
    ]
    assert doc.title == "Body"
    assert located(doc) == [(0, "# Body\n\ntext", ["Body"], 4, 6)]


def test_front_matter_that_is_not_a_mapping_is_a_warning(make_content):
    doc = process(make_content, "---\n- a\n- b\n---\ntext\n")
    assert doc.metadata["warnings"] == ["front matter is not a mapping but list; ignored"]
    assert doc.title is None
    assert located(doc) == [(0, "text", [], 5, 5)]


def test_front_matter_alias_bomb_is_refused_not_expanded(make_content):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    doc = process(make_content, "---\n" + "\n".join(lines) + "\n---\nbody\n")
    assert doc.metadata["warnings"] == [
        "invalid front matter, ignored: ValueError: structure too large"
    ]


def test_title_falls_back_to_the_first_h1(make_content):
    doc = process(make_content, "## Sub first\n\nSetext title\n===\n\n# Later\n")
    assert doc.title == "Setext title"
    assert [c.metadata["heading_path"] for c in doc.chunks] == [
        ["Sub first"],
        ["Setext title"],
        ["Later"],
    ]


def test_heading_text_is_plain_text(make_content):
    doc = process(make_content, "# Use `ingest` *now*\n")
    assert doc.metadata["headings"] == [{"level": 1, "text": "Use ingest now", "line": 1}]


def test_long_section_is_split_at_blocks_never_inside_a_fence(make_content):
    fence = "```\n" + "\n".join(f"line {i}" for i in range(8)) + "\n```"
    text = f"# Title\n\n{'a' * 40}\n\n{fence}\n\n{'b' * 40}\n"
    doc = process(make_content, text, SMALL)
    assert located(doc) == [
        (0, "# Title\n\n" + "a" * 40, ["Title"], 1, 3),
        (1, fence, ["Title"], 5, 14),
        (2, "b" * 40, ["Title"], 16, 16),
    ]


def test_a_fence_longer_than_the_maximum_is_split_by_lines(make_content):
    code = [f"print({i:02}, 'some code')" for i in range(10)]
    text = "# T\n\n```py\n" + "\n".join(code) + "\n```\n"
    doc = process(make_content, text, SMALL)
    assert all(len(c.text) <= SMALL.max_chars for c in doc.chunks)
    assert "".join(c.text for c in doc.chunks).replace("\n", "") == text.replace("\n", "")
    assert [(c.metadata["start_line"], c.metadata["end_line"]) for c in doc.chunks] == [
        (1, 4),
        (5, 6),
        (7, 8),
        (9, 10),
        (11, 12),
        (13, 14),
    ]


def test_lines_are_right_after_multibyte_text(make_content):
    # The parser reports UTF-8 byte offsets; lines must not drift after non-ASCII text.
    text = "Ünïcödé 🎉 日本語\n\n# Zwei 🎉\n\nmehr ü\n\n## Drei\n\nend\n"
    doc = process(make_content, text)
    assert doc.metadata["headings"] == [
        {"level": 1, "text": "Zwei 🎉", "line": 3},
        {"level": 2, "text": "Drei", "line": 7},
    ]
    assert located(doc) == [
        (0, "Ünïcödé 🎉 日本語", [], 1, 1),
        (1, "# Zwei 🎉\n\nmehr ü", ["Zwei 🎉"], 3, 5),
        (2, "## Drei\n\nend", ["Zwei 🎉", "Drei"], 7, 9),
    ]


def test_links_are_listed_as_urls_and_unsafe_ones_are_not(make_content):
    text = (
        "[a](<docs/my page.md>) [b](https://example.org/ü?q=1%20x) <me@example.org>\n"
        "[js](javascript:alert(1)) ![data](data:image/png;base64,AAAA) ![x](data:text/html,hi)\n"
    )
    doc = process(make_content, text)
    assert doc.metadata["links"] == [
        "docs/my%20page.md",
        "https://example.org/%C3%BC?q=1%20x",
        "mailto:me@example.org",
    ]
    assert doc.metadata["images"] == ["data:image/png;base64,AAAA"]


def test_a_heading_without_plain_text_is_named_by_its_source(make_content):
    doc = process(make_content, '# <a id="top"></a>\n\ntext\n\nRaw <b>html</b>\n---\n')
    assert [h["text"] for h in doc.metadata["headings"]] == ['<a id="top"></a>', "Raw html"]


def test_lone_surrogates_do_not_break_parsing(make_content):
    content = make_content("", MARKDOWN, "docs/s.md").model_copy(
        update={"text": "# Title \ud800 here\n\nbody\n"}
    )
    doc = processor_for(MARKDOWN).process(content, ChunkPolicy())
    assert doc.metadata["headings"] == [{"level": 1, "text": "Title \ufffd here", "line": 1}]
    assert located(doc) == [(0, "# Title \ud800 here\n\nbody", ["Title \ufffd here"], 1, 3)]


def test_front_matter_is_found_like_the_validator_finds_it(make_content):
    closed_by_dots = process(make_content, "---\ntitle: Dots\n...\n# Body\n")
    assert closed_by_dots.metadata["front_matter"] == {"title": "Dots"}
    assert located(closed_by_dots) == [(0, "# Body", ["Body"], 4, 4)]
    # Four dashes are a thematic break, not the opening of front matter.
    ruled = process(make_content, "----\ntitle: x\n---\n")
    assert "front_matter" not in ruled.metadata
