"""Workbooks that Excel opens and openpyxl does not, put right in memory before the parse:

- Strict Open XML (ISO/IEC 29500 Strict, Excel's "Strict Open XML Spreadsheet") names its
  elements with other namespace URIs; openpyxl finds no sheet and the text is lost without a
  word. They are rewritten to the Transitional URIs, which name the same elements.
- Part names with backslashes (`xl\\workbook.xml`), or in another case than the content
  types declare (`xl/SharedStrings.xml`): OPC part names are case-insensitive, and Excel
  reads both; openpyxl fails with a KeyError. They are renamed as declared."""

from __future__ import annotations

import io
import re
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
_CONTENT_TYPES = "[Content_Types].xml"
_PART_NAME = re.compile(rb'PartName="/([^"]+)"')


def repaired(data: bytes) -> bytes:
    """The package as openpyxl can read it: `data` itself when nothing needs repair."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        infos = package.infolist()
        names = {_slashed(info.filename): info for info in infos}
        declared = _declared_names(package, names)
        renames = {
            info.filename: declared.get(_slashed(info.filename).lower(), _slashed(info.filename))
            for info in infos
        }
        workbook = names.get(declared.get("xl/workbook.xml", "xl/workbook.xml"))
        strict = workbook is not None and _STRICT in package.read(workbook)[:4096]
        if not strict and all(old == new for old, new in renames.items()):
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in infos:
                body = package.read(info)
                if strict and info.filename.endswith((".xml", ".rels")) and _STRICT in body:
                    for strict_uri, transitional in _URIS:
                        body = body.replace(strict_uri, transitional)
                target.writestr(renames[info.filename], body)
        return out.getvalue()


def _slashed(name: str) -> str:
    return name.replace("\\", "/")


def _declared_names(package: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo]) -> dict[str, str]:
    """lower-cased part name -> the name the content types declare for it."""
    content_types = names.get(_CONTENT_TYPES)
    if content_types is None:
        return {}
    declared = _PART_NAME.findall(package.read(content_types))
    return {name.decode("utf-8", "replace").lower(): name.decode("utf-8", "replace")
            for name in declared}  # fmt: skip
