"""Links of an HTML page (selectolax/lexbor): absolute, normalised, with the canonical URL
and the robots meta directives that decide what the crawl may follow."""

from __future__ import annotations

import codecs
import functools
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser

from ...processors.html_content import TooManyAttributesError, check_attributes
from .urls import origin, resolve_url

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


@dataclass(frozen=True, slots=True)
class PageLinks:
    """What a page links to. `links` are normalised http(s) URLs, first occurrence order."""

    links: list[str] = field(default_factory=list)
    canonical: str | None = None
    nofollow: bool = False
    noindex: bool = False


def _text(body: bytes, charset: str | None) -> bytes | str:
    if charset is None:
        return body
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        return body
    return body if name == "utf-8" else body.decode(name, "replace")


@functools.lru_cache(maxsize=1 << 15)
def _resolve(base: str, href: str, sorted_query: bool) -> str | None:
    return resolve_url(base, href, sorted_query=sorted_query)


def _site_wide(href: str) -> bool:
    """True when resolving `href` needs only the base's scheme and host: a root-relative
    path, or an absolute http(s) URL."""
    return (href[:1] == "/" and href[1:2] != "/") or href[:8].lower().startswith(
        ("http://", "https://")
    )


def _rel_has(rel: str | None, word: str) -> bool:
    return rel is not None and word in rel.lower().split()


def extract_links(
    body: bytes,
    url: str,
    *,
    charset: str | None = None,
    sorted_query: bool = False,
    respect_nofollow: bool = False,
) -> PageLinks:
    """Links of the page at `url` (its final URL), resolved against <base href> when present.

    mailto:, javascript:, data: and other non-http(s) links are dropped; with
    `respect_nofollow`, rel=nofollow links are skipped and a robots meta "nofollow"
    drops them all. A page with an element of more attributes than any parser handles in
    linear time has no links here (the HTML processor rejects it, saying why).
    """
    source = _text(body, charset)
    try:
        check_attributes(source if isinstance(source, str) else source.decode("utf-8", "replace"))
    except TooManyAttributesError:
        return PageLinks()
    tree = LexborHTMLParser(source)
    base_url = url
    base = tree.css_first("base[href]")
    if base is not None:
        href = base.attributes.get("href")
        if href and (resolved := resolve_url(url, href, sorted_query=sorted_query)):
            base_url = resolved
    nofollow = noindex = False
    for meta in tree.css("meta[name][content]"):
        if (meta.attributes.get("name") or "").strip().lower() in ("robots", "aichemist-ingest"):
            directives = (meta.attributes.get("content") or "").lower().replace(",", " ").split()
            nofollow = nofollow or "nofollow" in directives or "none" in directives
            noindex = noindex or "noindex" in directives or "none" in directives
    canonical = None
    for link in tree.css("link[rel][href]"):
        if _rel_has(link.attributes.get("rel"), "canonical"):
            canonical = resolve_url(
                base_url, link.attributes.get("href") or "", sorted_query=sorted_query
            )
            break
    links: list[str] = []
    if not (respect_nofollow and nofollow):
        seen: set[str] = set()
        # Resolving is most of the cost of a page's links, and pages of a site repeat the
        # same navigation: resolution is memoised, keyed by the site root alone for the
        # hrefs that need no more of the base, so one entry serves every page.
        site_root = origin(base_url) + "/"
        for anchor in tree.css("a[href], area[href]"):
            attributes = anchor.attrs
            if respect_nofollow and _rel_has(attributes.get("rel"), "nofollow"):
                continue
            href = attributes.get("href") or ""
            target = _resolve(site_root if _site_wide(href) else base_url, href, sorted_query)
            if target is not None and target not in seen:
                seen.add(target)
                links.append(target)
    return PageLinks(links=links, canonical=canonical, nofollow=nofollow, noindex=noindex)
