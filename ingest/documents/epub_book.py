"""EPUB as what it is, a zip of XHTML (runs in the sandbox): the package document named by
META-INF/container.xml gives the spine order and the metadata, the navigation document (or
the NCX) the chapter titles, and each chapter goes through the HTML main-content path."""

from __future__ import annotations

import io
import posixpath
import zipfile
from typing import Any
from urllib.parse import unquote, urldefrag

from defusedxml import ElementTree
from lxml import etree

from ..decoding import decode_bytes
from ..processors.html_content import parse, read_page
from .extraction import Block, Extracted, ExtractionError, Part
from .limits import DocumentLimits

_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_NCX = "{http://www.daisy.org/z3986/2005/ncx/}"
_HTML_TYPES = ("application/xhtml+xml", "text/html")


def extract_epub(data: bytes, limits: DocumentLimits) -> Extracted:
    book = zipfile.ZipFile(io.BytesIO(data))
    opf_path = _package_path(book)
    opf = _xml(book, opf_path)
    base = posixpath.dirname(opf_path)
    manifest: dict[str, dict[str, str]] = {}
    for item in opf.iter(f"{_OPF}item"):
        href = item.get("href")
        if item.get("id") and href:
            manifest[item.get("id", "")] = {
                "path": _join(base, href),
                "type": item.get("media-type", ""),
                "properties": item.get("properties", ""),
            }
    spine = opf.find(f"{_OPF}spine")
    if spine is None:
        raise ExtractionError("corrupt", f"{opf_path} has no spine")
    titles = _toc_titles(book, manifest, spine.get("toc"))
    metadata = _metadata(opf)
    warnings: list[str] = []
    parts: list[Part] = []
    chapter = 0
    for ref in spine.iter(f"{_OPF}itemref"):
        entry = manifest.get(ref.get("idref", ""))
        if entry is None or entry["type"] not in _HTML_TYPES:
            continue
        chapter += 1
        if chapter > limits.max_chapters:
            warnings.append(f"only the first {limits.max_chapters} chapters were read")
            break
        parts += _chapter(book, entry["path"], chapter, titles.get(entry["path"]), warnings)
    metadata["chapter_count"] = chapter
    return Extracted(title=metadata.get("title"), metadata=metadata, warnings=warnings, parts=parts)


def _package_path(book: zipfile.ZipFile) -> str:
    try:
        container = _xml(book, "META-INF/container.xml")
    except KeyError as exc:
        raise ExtractionError("corrupt", "no META-INF/container.xml: not an EPUB") from exc
    rootfile = container.find(f"{_CONTAINER}rootfiles/{_CONTAINER}rootfile")
    path = rootfile.get("full-path") if rootfile is not None else None
    if not path:
        raise ExtractionError("corrupt", "META-INF/container.xml names no package document")
    return unquote(path)


def _xml(book: zipfile.ZipFile, name: str) -> Any:
    """The parsed member `name` (KeyError when it is missing), entities refused."""
    raw = book.read(name)
    try:
        return ElementTree.fromstring(raw, forbid_dtd=False, forbid_entities=True)
    except ElementTree.ParseError as exc:
        raise ExtractionError("corrupt", f"{name} is not well-formed XML: {exc}") from exc


def _join(base: str, href: str) -> str:
    return posixpath.normpath(posixpath.join(base, unquote(urldefrag(href)[0])))


def _toc_titles(
    book: zipfile.ZipFile, manifest: dict[str, dict[str, str]], ncx_id: str | None
) -> dict[str, str]:
    """Chapter path -> the first title the navigation document (EPUB 3) or NCX gives it."""
    titles: dict[str, str] = {}
    nav = next((e for e in manifest.values() if "nav" in e["properties"].split()), None)
    if nav is not None:
        try:
            tree = etree.fromstring(
                book.read(nav["path"]),
                etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False),
            )
        except (KeyError, etree.XMLSyntaxError):
            tree = None
        if tree is not None:
            base = posixpath.dirname(nav["path"])
            for link in tree.iter("{http://www.w3.org/1999/xhtml}a"):
                href = link.get("href")
                label = " ".join("".join(link.itertext()).split())
                if href and label:
                    titles.setdefault(_join(base, href), label)
    ncx = manifest.get(ncx_id or "")
    if not titles and ncx is not None:
        try:
            tree = _xml(book, ncx["path"])
        except KeyError:
            return titles
        base = posixpath.dirname(ncx["path"])
        for point in tree.iter(f"{_NCX}navPoint"):
            label = point.find(f"{_NCX}navLabel/{_NCX}text")
            content = point.find(f"{_NCX}content")
            if label is not None and content is not None and content.get("src"):
                text = " ".join((label.text or "").split())
                if text:
                    titles.setdefault(_join(base, content.get("src", "")), text)
    return titles


def _chapter(
    book: zipfile.ZipFile, path: str, number: int, toc_title: str | None, warnings: list[str]
) -> list[Part]:
    try:
        raw = book.read(path)
    except KeyError:
        warnings.append(f"chapter {number} ({path}) is missing from the package")
        return []
    text = decode_bytes(raw).text
    if text is None:
        warnings.append(f"chapter {number} ({path}) is not text")
        return []
    tree = parse(text)
    if tree is None:
        return []
    page = read_page(tree, path, len(text))
    first_heading = next((s.heading for s in page.sections if s.heading), None)
    title = toc_title or page.title or first_heading
    meta = {"chapter": number, "chapter_title": title, "chapter_href": path}
    parts: list[Part] = []
    for section in page.sections:
        pieces = [section.heading, *section.blocks] if section.heading else section.blocks
        blocks = [Block(piece) for piece in pieces if piece.strip()]
        if blocks:
            parts.append(Part(heading_path=list(section.heading_path), meta=meta, blocks=blocks))
    return parts


def _metadata(opf: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    block = opf.find(f"{_OPF}metadata")
    if block is None:
        return metadata
    for tag, key in (
        ("title", "title"),
        ("creator", "author"),
        ("language", "language"),
        ("publisher", "publisher"),
        ("date", "date"),
        ("identifier", "identifier"),
        ("subject", "subject"),
    ):
        found = block.find(f"{_DC}{tag}")
        if found is not None and (found.text or "").strip():
            metadata[key] = " ".join(found.text.split())
    return metadata
