"""The main content of an HTML page, read with trafilatura, as sections of text blocks
under their h1-h6 headings; and the page facts around it (title, language,
canonical URL, links) read from the parsed tree."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from lxml import etree

from .html_extractor import extract

# trafilatura's time grows with the square of the text blocks it keeps (about 0.3 s
# for 5,000 paragraphs, 8 s for 40,000): past these bounds, relative to the page size
# (real pages have over 45 bytes per element), a linear walk of the page with the
# page chrome dropped reads the content instead.
MAX_EXTRACTOR_BLOCKS = 6_000
MAX_EXTRACTOR_ELEMENTS = 150_000
_BYTES_PER_BLOCK = 60
_BYTES_PER_ELEMENT = 25
_MIN_BLOCKS = 500
_MIN_ELEMENTS = 5_000
MAX_LINKS = 10_000
# libxml2 checks each attribute of an element against all the earlier ones: an element
# with n attributes costs n^2 (100,000 attributes: 9 s; a 10 MB page could hold a million).
# Real pages stay far below this bound; longer start tags are counted before parsing.
MAX_ATTRIBUTES = 1_000
_LONG_TAG = 8 * 1024
_TAG_START = re.compile(r"<[A-Za-z]")
# A start tag as libxml2 reads it: quoted values may hold < and >. Possessive, so that an
# unclosed tag or quote ends the match instead of backtracking.
_START_TAG = re.compile(r"""<[A-Za-z](?:[^<>"']++|"[^"]*+"|'[^']*+')*+""")
_QUOTED = re.compile(r""""[^"]*+"|'[^']*+'""")
_ATTRIBUTE = re.compile(r"""[^\s"'=<>/]+""")

_CHROME = "ancestor::nav or ancestor::header or ancestor::footer or ancestor::aside"
_HEADINGS_OUTSIDE_CHROME = etree.XPath(
    "boolean(//body//*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6]"
    f"[not({_CHROME})][normalize-space()])"
)
_HAS_FRAME = etree.XPath("boolean(//main or //article or //*[@role='main'])")
_FRAME = etree.XPath("(//main | //article | //*[@role='main'])[1]")
_COUNT_BLOCKS = etree.XPath(
    "count(//p | //div | //li | //tr | //pre | //blockquote | //dd | //dt | //h1 | //h2 | //h3"
    " | //h4 | //h5 | //h6)"
)
_COUNT_ELEMENTS = etree.XPath("count(//*)")
_RESOLVABLE = frozenset({"http", "https", "file"})
_NOT_PAGES = ("javascript:", "mailto:", "tel:", "data:", "about:", "blob:")


@dataclass
class Section:
    heading_path: list[str]
    heading: str | None = None
    level: int = 0
    blocks: list[str] = field(default_factory=list)


@dataclass
class Page:
    title: str | None = None
    lang: str | None = None
    canonical: str | None = None
    links: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=lambda: [Section([])])


class TooManyAttributesError(ValueError):
    """An element has more attributes than libxml2 can parse in reasonable time."""


def check_attributes(text: str) -> None:
    """Raise TooManyAttributesError when a start tag has over MAX_ATTRIBUTES attributes.

    Linear: each start tag is matched once, and only long ones are counted."""
    pos = 0
    while (start := _TAG_START.search(text, pos)) is not None:
        tag = _START_TAG.match(text, start.start())
        end = tag.end() if tag is not None else start.end()
        if end - start.start() > _LONG_TAG:
            unquoted = _QUOTED.sub(" ", text[start.start() + 1 : end])
            # names and unquoted values: at least as many as the attributes
            count = sum(1 for _ in _ATTRIBUTE.finditer(unquoted)) - 1
            if count > MAX_ATTRIBUTES:
                line = text.count("\n", 0, start.start()) + 1
                raise TooManyAttributesError(
                    f"an element at line {line} has about {count} attributes, over the limit "
                    f"of {MAX_ATTRIBUTES}: refused (parsing it would take quadratic time)"
                )
        pos = max(end, start.end())


def parse(text: str) -> lxml.html.HtmlElement | None:
    """The document tree, or None when there is no markup or text at all.

    Bytes with a declared encoding, because lxml refuses a str that carries an
    XML encoding declaration; lone surrogates and NULs become replacement marks.
    Raises TooManyAttributesError for an element no parser should be given.
    """
    check_attributes(text)
    data = text.replace("\x00", "\ufffd").encode("utf-8", "replace")
    parser = lxml.html.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, collect_ids=False
    )
    try:
        return lxml.html.document_fromstring(data, parser=parser)
    except etree.ParserError:  # "Document is empty"
        return None


def read_page(tree: lxml.html.HtmlElement, uri: str, size: int) -> Page:
    """Facts of the whole page, and its main content as sections; `size` is the
    page's length, which bounds the work spent on it."""
    base = _base_url(tree, uri)
    page = Page(
        title=_title(tree),
        lang=_lang(tree),
        canonical=_canonical(tree, base),
        links=_links(tree, base),
    )
    max_elements = min(MAX_EXTRACTOR_ELEMENTS, max(_MIN_ELEMENTS, size // _BYTES_PER_ELEMENT))
    max_blocks = min(MAX_EXTRACTOR_BLOCKS, max(_MIN_BLOCKS, size // _BYTES_PER_BLOCK))
    if _COUNT_ELEMENTS(tree) > max_elements or _COUNT_BLOCKS(tree) > max_blocks:
        page.sections = _Walker().read(tree)
        return page
    body = _main_content(tree, base)
    if body is not None:
        page.sections = _sections(body)
    return page


# -- main content -----------------------------------------------------------------------


def _main_content(tree: lxml.html.HtmlElement, base: str | None) -> Any:
    body = extract(tree, base)
    if (
        (body is None or body.find("head") is None)
        and not _HAS_FRAME(tree)
        and _HEADINGS_OUTSIDE_CHROME(tree)
    ):
        # Without <main> or <article>, trafilatura recovers paragraphs but drops the
        # headings; naming the body the article keeps the page's section structure.
        framed = _framed(tree)
        if framed is not None:
            framed_body = extract(framed, base)
            if framed_body is not None:
                body = framed_body
    return body


def _framed(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    copy = deepcopy(tree)
    body = copy.find("body")
    if body is None:
        return None
    article = etree.Element("article")
    article.text, body.text = body.text, None
    article.extend(list(body))
    body.append(article)
    return copy


def _sections(body: Any) -> list[Section]:
    sections = [Section([])]
    path: list[tuple[int, str]] = []
    for element in body:
        level = _heading_level(element)
        if level:
            heading = _inline(element)
            if heading:
                path = [(lvl, text) for lvl, text in path if lvl < level]
                path.append((level, heading))
                sections.append(Section([text for _, text in path], heading, level))
                continue
        sections[-1].blocks.extend(_blocks(element))
        if tail := _tail(element):
            sections[-1].blocks.append(tail)
    return sections


def _heading_level(element: Any) -> int:
    rend = element.get("rend") or ""
    if element.tag == "head" and len(rend) == 2 and rend[0] == "h" and rend[1] in "123456":
        return int(rend[1])
    return 0


def _blocks(element: Any) -> Iterator[str]:
    """Text blocks of one element of trafilatura's output (p, head, list, table, code,
    quote, ...)."""
    tag = element.tag
    if not isinstance(tag, str):
        return
    if tag == "list":
        text = "\n".join(_list_lines(element, 0))
    elif tag == "table":
        text = "\n".join(
            " | ".join(_inline(cell) for cell in row if isinstance(cell.tag, str))
            for row in element.iter("row")
        ).strip()
    elif tag == "code" or (tag == "quote" and not _has_blocks(element)):
        text = _preformatted(element)
    elif tag not in _INLINE_ONLY and _has_blocks(element):
        text = " ".join((element.text or "").split())
        if text:
            yield text
        for child in element:
            yield from _blocks(child)
            if tail := _tail(child):
                yield tail
        return
    else:
        text = _inline(element)
    if text and not text.isspace():
        yield text


_BLOCK_TAGS = frozenset({"p", "list", "table", "quote", "head", "div"})
_INLINE_ONLY = frozenset({"p", "head"})  # their `code` children are inline code


def _has_blocks(element: Any) -> bool:
    return any(
        child.tag in _BLOCK_TAGS or (child.tag == "code" and "\n" in "".join(child.itertext()))
        for child in element
    )


def _tail(element: Any) -> str:
    return " ".join((element.tail or "").split())


def _list_lines(element: Any, depth: int) -> Iterator[str]:
    for item in element:
        if item.tag != "item":
            continue
        own = _inline(item, skip=("list",))
        if own:
            yield "  " * depth + "- " + own
        for nested in item.iter("list"):
            if nested is not item:
                yield from _list_lines(nested, depth + 1)
                break


_LINE_BREAK = "\x00"  # `parse` replaced every NUL of the page


def _inline(element: Any, skip: tuple[str, ...] = ()) -> str:
    """The text of an element, whitespace collapsed, line breaks (`lb`) kept."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            if child.tag == "lb":
                parts.append(_LINE_BREAK)
            elif isinstance(child.tag, str) and child.tag not in skip:
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    lines = (" ".join(line.split()) for line in "".join(parts).split(_LINE_BREAK))
    return "\n".join(line for line in lines if line)


def _preformatted(element: Any) -> str:
    raw = "".join(element.itertext())
    return "\n".join(line.rstrip() for line in raw.split("\n")).strip("\n")


# -- large pages: a linear walk ---------------------------------------------------------

_SKIP = frozenset(
    {"script", "style", "nav", "header", "footer", "aside", "noscript", "template", "svg",
     "form", "button", "select", "iframe", "object", "head"}
)  # fmt: skip
_CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search"})
_WALK_BLOCKS = frozenset(
    {"address", "article", "blockquote", "body", "br", "caption", "dd", "details", "div",
     "dl", "dt", "figcaption", "figure", "hr", "li", "main", "ol", "p", "section", "summary",
     "ul"}
)  # fmt: skip
_HTML_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_MAX_WALK_DEPTH = 400


class _Walker:
    """Text blocks under their headings, page chrome dropped: what trafilatura gives,
    without its boilerplate scoring, in time linear in the page."""

    def __init__(self) -> None:
        self.sections = [Section([])]
        self._path: list[tuple[int, str]] = []
        self._buffer: list[str] = []
        self._item = False
        self._last_item = False

    def read(self, tree: lxml.html.HtmlElement) -> list[Section]:
        frames = _FRAME(tree)
        root = frames[0] if frames else tree.find("body")
        if root is not None:
            self._walk(root, 0)
            self._flush()
        return self.sections

    def _walk(self, element: Any, depth: int) -> None:
        tag = element.tag
        if not isinstance(tag, str) or tag in _SKIP or depth > _MAX_WALK_DEPTH:
            return
        if (element.get("role") or "").lower() in _CHROME_ROLES:
            return
        if tag in _HTML_HEADINGS:
            self._flush()
            self._heading(_HTML_HEADINGS[tag], " ".join(element.text_content().split()))
            return
        if tag in ("pre", "table"):
            self._flush()
            if tag == "pre":
                self._block(_preformatted(element))
            else:
                rows = (
                    " | ".join(" ".join(cell.text_content().split()) for cell in row)
                    for row in element.iter("tr")
                )
                self._block("\n".join(row for row in rows if row.strip(" |")))
            return
        block = tag in _WALK_BLOCKS
        if block:
            self._flush()
            self._item = tag == "li"
        if element.text:
            self._buffer.append(element.text)
        for child in element:
            self._walk(child, depth + 1)
            if child.tail:
                self._buffer.append(child.tail)
        if block:
            self._flush()

    def _heading(self, level: int, text: str) -> None:
        if not text:
            return
        self._path = [(lvl, h) for lvl, h in self._path if lvl < level]
        self._path.append((level, text))
        self.sections.append(Section([h for _, h in self._path], text, level))
        self._last_item = False

    def _flush(self) -> None:
        text = " ".join("".join(self._buffer).split())
        self._buffer.clear()
        if text:
            if self._item:
                text = "- " + text
            self._block(text, self._item)
        self._item = False

    def _block(self, text: str, item: bool = False) -> None:
        if not text or text.isspace():
            return
        blocks = self.sections[-1].blocks
        if item and self._last_item and blocks:
            blocks[-1] += "\n" + text
        else:
            blocks.append(text)
        self._last_item = item


# -- page facts -------------------------------------------------------------------------


def _first(tree: lxml.html.HtmlElement, path: str) -> str | None:
    for value in tree.xpath(path):
        text = " ".join(str(value).split())
        if text:
            return text
    return None


def _title(tree: lxml.html.HtmlElement) -> str | None:
    return _first(tree, "//head/title//text()") or _first(
        tree, "//meta[@property='og:title']/@content"
    )


def _lang(tree: lxml.html.HtmlElement) -> str | None:
    return (
        _first(tree, "/html/@lang")
        or _first(tree, "/html/@xml:lang")
        or _first(
            tree,
            "//meta[translate(@http-equiv, 'CONTENTLAGU', 'contentlagu')='content-language']"
            "/@content",
        )
        or _first(tree, "//meta[@property='og:locale']/@content")
    )


@functools.lru_cache(maxsize=1 << 15)
def _resolve(base: str | None, href: str) -> str | None:
    href = href.strip()
    if not href or href.startswith("#") or href.lower().startswith(_NOT_PAGES):
        return None
    try:
        url = urljoin(base, href) if base else href
        return urldefrag(url).url or None
    except ValueError:  # e.g. a broken IPv6 host
        return None


def _site_root(base: str | None) -> str | None:
    """scheme://host/ of `base`: all a root-relative or absolute href needs of it."""
    if not base:
        return base
    try:
        parts = urlsplit(base)
    except ValueError:
        return base
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme and parts.netloc else base


def _base_url(tree: lxml.html.HtmlElement, uri: str) -> str | None:
    try:
        scheme = urlsplit(uri).scheme.lower()
    except ValueError:
        scheme = ""
    base = uri if scheme in _RESOLVABLE else None
    declared = _first(tree, "//head/base/@href")
    if declared:
        resolved = _resolve(base, declared)
        if resolved and urlsplit(resolved).scheme.lower() in _RESOLVABLE:
            base = resolved
    return base


def _canonical(tree: lxml.html.HtmlElement, base: str | None) -> str | None:
    for link in tree.iterfind(".//link[@rel]"):
        if "canonical" in (link.get("rel") or "").lower().split():
            href = _resolve(base, link.get("href") or "")
            if href:
                return href
    return None


def _links(tree: lxml.html.HtmlElement, base: str | None) -> list[str]:
    """Every link of the page, navigation included: the crawler follows those too."""
    found: dict[str, None] = {}
    root = _site_root(base)
    for value in tree.xpath("//a/@href | //area/@href"):
        href = str(value).strip()
        # Navigation repeats on every page: `_resolve` is memoised, and an href that only
        # needs the base's scheme and host is keyed by those, so one entry serves the site.
        site_wide = (href[:1] == "/" and href[1:2] != "/") or href[:8].lower().startswith(
            ("http://", "https://")
        )
        url = _resolve(root if site_wide else base, href)
        if url:
            found[url] = None
            if len(found) >= MAX_LINKS:
                break
    return list(found)
