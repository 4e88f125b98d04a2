"""trafilatura with our settings, imported on first use: a CLI call that reads no HTML
does not pay for its import."""

from __future__ import annotations

import functools
from configparser import ConfigParser
from typing import Any

import lxml.html


@functools.cache
def _config() -> ConfigParser:
    from trafilatura.settings import use_config

    config = use_config()
    # A short page is still a page: without this, pages under 250 characters lose
    # their structure to trafilatura's baseline fallback.
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    config.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
    return config


def extract(tree: lxml.html.HtmlElement, url: str | None) -> Any:
    from trafilatura import bare_extraction

    document = bare_extraction(
        tree,
        url=url,
        fast=True,
        include_comments=False,
        include_tables=True,
        include_formatting=False,
        include_links=False,
        include_images=False,
        with_metadata=False,
        config=_config(),
    )
    return None if document is None or isinstance(document, dict) else document.body
