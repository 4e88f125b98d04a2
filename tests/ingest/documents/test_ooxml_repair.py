"""Workbooks Excel opens and openpyxl alone does not are read like any other: Strict Open XML
(openpyxl found no sheet and stored it without a chunk), and part names with backslashes or
in another case than declared (openpyxl failed with a KeyError); real cases of each are in
calamine's tests (strict_iso_paths.xlsx, issue_419.xlsx, issue_530.xlsx)."""

from __future__ import annotations

import io
import zipfile

from ingest.content_types import XLSX
from ingest.documents.ooxml_repair import _URIS
from ingest.models import Outcome, SourceItem, content_hash
from ingest.pipeline import _Content, process_content
from ingest.processors.base import ChunkPolicy
from ingest.store.base import ItemWrite
from ingest.validators import ValidationPolicy
from tests.support.documents import make_xlsx


def _as_strict(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            for strict, transitional in reversed(_URIS):
                body = body.replace(transitional, strict)
            target.writestr(info.filename, body)
    return out.getvalue()


def _run(data: bytes) -> ItemWrite:
    item = SourceItem(source_id="t", uri="file:///r/book.xlsx", path="book.xlsx",
                      content_type=XLSX)  # fmt: skip
    write, _, _ = process_content(
        _Content(item, data, content_hash(data), False),
        validation=ValidationPolicy(),
        chunking=ChunkPolicy(),
    )
    return write


def _located(write: ItemWrite) -> list[tuple[str, str, str]]:
    assert write.document is not None, (write.outcome, write.errors, write.failure)
    return [(c.text, c.metadata["sheet"], c.metadata["cell_range"]) for c in write.document.chunks]


def test_strict_workbook_gives_the_same_chunks_as_transitional() -> None:
    transitional = make_xlsx()
    strict = _as_strict(transitional)
    with zipfile.ZipFile(io.BytesIO(strict)) as package:
        assert b"purl.oclc.org/ooxml/spreadsheetml" in package.read("xl/workbook.xml")
    write = _run(strict)
    assert write.outcome is Outcome.NEW
    assert _located(write) == _located(_run(transitional))
    assert _located(write)[0][1:] == ("Inventory", "A1:C4")


def _renamed(data: bytes, rename: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(rename.get(info.filename, info.filename), source.read(info))
    return out.getvalue()


def test_part_names_in_another_case_or_with_backslashes_are_read() -> None:
    transitional = make_xlsx()
    expected = _located(_run(transitional))
    with zipfile.ZipFile(io.BytesIO(transitional)) as package:
        names = package.namelist()
    assert "xl/worksheets/sheet1.xml" in names
    other_case = _renamed(transitional, {"xl/worksheets/sheet1.xml": "xl/worksheets/Sheet1.xml"})
    assert _located(_run(other_case)) == expected
    backslashes = _renamed(transitional, {n: n.replace("/", "\\") for n in names})
    assert _located(_run(backslashes)) == expected
