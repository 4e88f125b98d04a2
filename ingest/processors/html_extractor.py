"""trafilatura with our settings, imported on first use: a CLI call that reads no HTML
does not pay for its import.

This file imports nothing of ours: benchmarks/scrapy_spider.py loads it by path in its
own virtualenv, so that the Scrapy side extracts with the same settings."""

from __future__ import annotations

import functools
from configparser import ConfigParser
from typing import Any

import lxml.html

# Main text and tables only: links, images and metadata come from our own parse.
OPTIONS: dict[str, Any] = {
    "fast": True,
    "include_comments": False,
    "include_tables": True,
    "include_formatting": False,
    "include_links": False,
    "include_images": False,
    "with_metadata": False,
}


@functools.cache
def config() -> ConfigParser:
    from trafilatura.settings import use_config

    settings = use_config()
    # A short page is still a page: without this, pages under 250 characters lose
    # their structure to trafilatura's baseline fallback.
    settings.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    settings.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
    return settings


def extract(tree: lxml.html.HtmlElement, url: str | None) -> Any:
    """The main content's element of a parsed page (an lxml tree), or None."""
    from trafilatura import bare_extraction

    document = bare_extraction(tree, url=url, config=config(), **OPTIONS)
    return None if document is None or isinstance(document, dict) else document.body
