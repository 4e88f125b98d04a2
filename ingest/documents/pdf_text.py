"""PDF with pypdfium2 (runs in the sandbox): the text of every page in pdfium's reading
order, split into sections at the outline's bookmarks (located in the page text when the
title is found there, else at the top of the bookmark's page), and the document info."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pypdfium2 as pdfium

from .extraction import Block, Extracted, ExtractionError, Part, clean_text
from .limits import DocumentLimits

_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD
_MAX_BOOKMARKS = 10_000
_INFO_KEYS = {
    "Title": "title",
    "Author": "author",
    "Subject": "subject",
    "Keywords": "keywords",
    "Creator": "creator",
    "Producer": "producer",
}
_PDF_DATE = re.compile(r"D?:?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+\-].*)?")


@dataclass(frozen=True)
class _Mark:
    path: list[str]
    page: int  # 0-based
    offset: int  # in the page's text


def extract_pdf(data: bytes, limits: DocumentLimits) -> Extracted:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _PASSWORD_ERROR:
            raise ExtractionError("encrypted", "encrypted PDF that needs a password") from exc
        raise ExtractionError("corrupt", f"unreadable PDF: {exc}") from exc
    try:
        return _read(pdf, limits)
    finally:
        pdf.close()


def _read(pdf: pdfium.PdfDocument, limits: DocumentLimits) -> Extracted:
    count = len(pdf)
    warnings: list[str] = []
    read = min(count, limits.max_pages)
    if read < count:
        warnings.append(f"only the first {read} of {count} pages were read (max_pages)")
    pages = [_page_text(pdf, index) for index in range(read)]
    if not any(text.strip() for text in pages):
        raise ExtractionError(
            "no-text-layer",
            f"no text layer on any of its {count} page(s): it is scanned or drawn and needs OCR",
        )
    marks = _marks(pdf, pages)
    metadata = _info(pdf)
    metadata["page_count"] = count
    if read < count:
        metadata["pages_read"] = read
    metadata["outline"] = [{"level": len(m.path), "title": m.path[-1], "page": m.page + 1}
                           for m in marks][:200]  # fmt: skip
    return Extracted(
        title=metadata.get("title") or None,
        metadata=metadata,
        warnings=warnings,
        parts=_parts(pages, marks),
    )


def _page_text(pdf: pdfium.PdfDocument, index: int) -> str:
    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            return clean_text(textpage.get_text_range())
        finally:
            textpage.close()
    finally:
        page.close()


def _marks(pdf: pdfium.PdfDocument, pages: list[str]) -> list[_Mark]:
    """Bookmarks in outline order with their heading path and start, never going back."""
    marks: list[_Mark] = []
    stack: list[tuple[int, str]] = []
    page, offset = 0, 0
    for n, bookmark in enumerate(pdf.get_toc(max_depth=16)):
        if n >= _MAX_BOOKMARKS:
            break
        title = " ".join((bookmark.get_title() or "").split())
        dest = bookmark.get_dest()
        index = dest.get_index() if dest is not None else None
        if not title or index is None or index >= len(pages):
            continue
        stack = [(level, text) for level, text in stack if level < bookmark.level]
        stack.append((bookmark.level, title))
        if (index, 0) < (page, offset):
            index = page  # a bookmark that points back: it starts where the last one did
        found = _find(pages[index], title, offset if index == page else 0)
        start = found if found is not None else (offset if index == page else 0)
        page, offset = index, start
        marks.append(_Mark([text for _, text in stack], index, start))
    return marks


def _find(text: str, title: str, start: int) -> int | None:
    pattern = r"\s+".join(re.escape(word) for word in title.split())
    match = re.compile(pattern, re.IGNORECASE).search(text, start)
    return match.start() if match else None


def _parts(pages: list[str], marks: list[_Mark]) -> list[Part]:
    bounds = [_Mark([], 0, 0), *marks]
    parts: list[Part] = []
    for n, mark in enumerate(bounds):
        end = bounds[n + 1] if n + 1 < len(bounds) else _Mark([], len(pages), 0)
        part = Part(heading_path=mark.path)
        for index in range(mark.page, min(end.page, len(pages) - 1) + 1):
            text = pages[index]
            first = mark.offset if index == mark.page else 0
            last = end.offset if index == end.page else len(text)
            piece = text[first:last].strip()
            if piece:
                part.blocks.append(Block(piece, {"page": index + 1}))
        if part.blocks:
            parts.append(part)
    return parts


def _info(pdf: pdfium.PdfDocument) -> dict[str, Any]:
    try:
        info = pdf.get_metadata_dict(skip_empty=True)
    except (pdfium.PdfiumError, UnicodeDecodeError, ValueError):
        return {}
    metadata: dict[str, Any] = {
        key: " ".join(str(info[name]).split()) for name, key in _INFO_KEYS.items() if info.get(name)
    }
    for name, key in (("CreationDate", "created"), ("ModDate", "modified")):
        value = _date(info.get(name))
        if value:
            metadata[key] = value
    return metadata


def _date(raw: str | None) -> str | None:
    """A PDF date (D:YYYYMMDDHHmmSS+HH'mm') in ISO 8601, or the raw value if odd."""
    if not raw:
        return None
    match = _PDF_DATE.fullmatch(raw.strip())
    if not match:
        return raw.strip()
    year, month, day, hour, minute, second, zone = match.groups()
    iso = f"{year}-{month or '01'}-{day or '01'}"
    if hour:
        iso += f"T{hour}:{minute or '00'}:{second or '00'}"
        if zone:
            iso += "Z" if zone[0] in "Zz" else f"{zone[0]}{zone[1:3]}:{zone[4:6] or '00'}"
    return iso
