"""Strict Open XML (ISO/IEC 29500 Strict, "Strict Open XML Spreadsheet" in Excel's Save
As) uses other namespace URIs than the Transitional form that openpyxl reads; openpyxl then
finds no sheet at all and the workbook's text is lost without a word. The package is
rewritten in memory to the Transitional URIs, which name the same elements."""

from __future__ import annotations

import io
import zipfile

_STRICT = b"http://purl.oclc.org/ooxml/"
#: Strict prefix -> Transitional prefix; the longest first, so each URI maps once.
_URIS = (
    (b"http://purl.oclc.org/ooxml/officeDocument/relationships",
     b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"),
    (b"http://purl.oclc.org/ooxml/officeDocument/",
     b"http://schemas.openxmlformats.org/officeDocument/2006/"),
    (b"http://purl.oclc.org/ooxml/spreadsheetml/main",
     b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"),
    (b"http://purl.oclc.org/ooxml/drawingml/",
     b"http://schemas.openxmlformats.org/drawingml/2006/"),
)  # fmt: skip


def is_strict(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        names = set(package.namelist())
        main = "xl/workbook.xml" if "xl/workbook.xml" in names else None
        return main is not None and _STRICT in package.read(main)[:4096]


def to_transitional(data: bytes) -> bytes:
    """The same package with Strict namespace URIs replaced by the Transitional ones."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            body = source.read(info)
            if info.filename.endswith((".xml", ".rels")) and _STRICT in body:
                for strict, transitional in _URIS:
                    body = body.replace(strict, transitional)
            target.writestr(info.filename, body)
    return out.getvalue()
