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
        "invalid front matter, ignored: expected ',' or ']', but got '<stream end>' at line 2"
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
