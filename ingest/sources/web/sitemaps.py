"""Sitemaps (urlset and sitemapindex, gzipped or not) as a discovery source, parsed with
defusedxml (no DTD, no entities) under a size cap counted after decompression."""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass, field
from typing import Literal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from .errors import SitemapError

GZIP_MAGIC = b"\x1f\x8b"
MAX_SITEMAP_URLS = 50_000
_MARKERS = (b"<urlset", b"<sitemapindex", b":urlset", b":sitemapindex")


@dataclass(frozen=True, slots=True)
class Sitemap:
    """A parsed sitemap: page URLs (urlset) or child sitemap URLs (sitemapindex), as written."""

    kind: Literal["urlset", "sitemapindex"]
    urls: list[str] = field(default_factory=list)


def gunzip(data: bytes, url: str, max_bytes: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise SitemapError(f"the gzipped sitemap {url} is corrupt: {exc}", uri=url) from exc
    if len(out) > max_bytes:
        raise SitemapError(
            f"the sitemap {url} is over {max_bytes} bytes once decompressed",
            uri=url,
            details={"max_bytes": max_bytes},
        )
    return out


def looks_like_sitemap(body: bytes) -> bool:
    """True when `body` (gzipped or not) starts like a sitemap; cheap enough for every seed."""
    if body.startswith(GZIP_MAGIC):
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body[:4096], 4096)
        except zlib.error:
            return False
    else:
        head = body[:4096]
    return any(marker in head for marker in _MARKERS)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_sitemap(body: bytes, url: str, max_bytes: int) -> Sitemap:
    """The URLs a sitemap lists (at most 50,000, as the protocol allows)."""
    if body.startswith(GZIP_MAGIC):
        body = gunzip(body, url, max_bytes)
    elif len(body) > max_bytes:
        raise SitemapError(
            f"the sitemap {url} is over {max_bytes} bytes",
            uri=url,
            details={"max_bytes": max_bytes},
        )
    # Streamed: a sitemap may list a million URLs, and only the first 50,000 are kept,
    # so entries are read one by one and dropped from the tree once read.
    kind = ""
    urls: list[str] = []
    depth = 0
    root: Element | None = None
    try:
        for event, element in iterparse(io.BytesIO(body), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                depth += 1
                if root is None:
                    root, kind = element, _local(element.tag)
                    if kind not in ("urlset", "sitemapindex"):
                        raise SitemapError(
                            f"{url} is not a sitemap (root element <{kind}>)", uri=url
                        )
                continue
            depth -= 1
            if depth != 1 or root is None:
                continue
            if _local(element.tag) == ("url" if kind == "urlset" else "sitemap"):
                loc = next((sub for sub in element if _local(sub.tag) == "loc"), None)
                if loc is not None and loc.text and loc.text.strip():
                    urls.append(loc.text.strip())
            root.clear()
            if len(urls) >= MAX_SITEMAP_URLS:
                break
    except (ParseError, DefusedXmlException) as exc:
        raise SitemapError(f"the sitemap {url} is not acceptable XML: {exc}", uri=url) from exc
    return Sitemap(kind="urlset" if kind == "urlset" else "sitemapindex", urls=urls)
