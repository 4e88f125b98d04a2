"""DOCX, PPTX, XLSX and EPUB golden tests: documents written with python-docx, python-pptx,
openpyxl and zipfile; every chunk's text and location checked."""

from __future__ import annotations

import io
import zipfile

import pytest

from ingest.content_types import DOCX, EPUB, PPTX, XLSX
from ingest.models import Outcome
from ingest.processors.base import ChunkPolicy
from tests.ingest.documents.helpers import located, run
from tests.support.documents import (
    make_docx,
    make_epub,
    make_pptx,
    make_xlsx,
    replace_member,
)


def test_docx_sections_follow_heading_styles_and_tables_are_rows() -> None:
    write = run("manual.docx", make_docx())
    assert located(write, "heading_path", "paragraph_start", "paragraph_end", "table") == [
        ("Operations Manual", ["Operations Manual"], 1, 1, None),
        ("Getting started\n\nInstall the gizmo before the first run.",
         ["Operations Manual", "Getting started"], 2, 3, None),
        ("Prerequisites\n\nA screwdriver and patience.\n\nPart | Count\nGear | 12\nSpring | 3",
         ["Operations Manual", "Getting started", "Prerequisites"], 4, 5, 1),
        ("Maintenance\n\nOil the gears every spring.",
         ["Operations Manual", "Maintenance"], 6, 7, None),
    ]  # fmt: skip
    document = write.document
    assert document is not None
    assert document.content_type == DOCX
    assert document.title == "Operations Manual"
    assert document.metadata["author"] == "Grace Writer"
    assert document.metadata["table_count"] == 1
    assert "HEADER-TEXT" not in document.text
    assert "FOOTER-TEXT" not in document.text


def test_docx_table_chunk_carries_its_rows() -> None:
    write = run("manual.docx", make_docx(), ChunkPolicy(target_chars=50, max_chars=100))
    table = [c for c in located(write, "table", "table_row_start", "table_row_end") if c[1]]
    assert table == [("Part | Count\nGear | 12\nSpring | 3", 1, 1, 3)]


def test_pptx_one_section_per_slide_with_notes() -> None:
    write = run("deck.pptx", make_pptx())
    assert located(write, "slide", "slide_title", "heading_path") == [
        ("Quarterly review\n\nRevenue grew in every region.\n\nNotes: Mention the weather.",
         1, "Quarterly review", ["Quarterly review"]),
        ("Next steps\n\nHire two engineers.\n\nShip the beta.", 2, "Next steps", ["Next steps"]),
    ]  # fmt: skip
    document = write.document
    assert document is not None
    assert document.content_type == PPTX
    assert document.metadata["slide_count"] == 2


def test_xlsx_sheets_rows_and_cell_ranges() -> None:
    write = run("book.xlsx", make_xlsx())
    assert located(write, "sheet", "cell_range", "header_row") == [
        ("Item | Qty | Price\napple | 3 | 1.5\npear | 5 | 2.25\ntotal", "Inventory", "A1:C4", 1),
        ("free text only\nsecond line", "Notes", "A1:A2", None),
    ]
    document = write.document
    assert document is not None
    assert document.content_type == XLSX
    assert "=SUM" not in document.text, "formulas give cached values, never their source"


def test_xlsx_formula_gives_its_cached_value() -> None:
    """What Excel saves: the formula and the value it last computed (openpyxl writes no
    value, so the test puts Excel's in)."""
    book = make_xlsx()
    sheet = zipfile.ZipFile(io.BytesIO(book)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>SUM(B2:B3)</f><v></v>" in sheet
    sheet = sheet.replace("<f>SUM(B2:B3)</f><v></v>", "<f>SUM(B2:B3)</f><v>8</v>")
    write = run("cached.xlsx", replace_member(book, "xl/worksheets/sheet1.xml", sheet.encode()))
    text, cell_range = located(write, "cell_range")[0]
    assert str(text).endswith("pear | 5 | 2.25\ntotal | 8")
    assert cell_range == "A1:C4"


def test_xlsx_header_starts_every_chunk_and_ranges_follow_rows() -> None:
    rows: list[list[object]] = [["Name", "Score"]] + [[f"player{n:03d}", n] for n in range(1, 61)]
    write = run("scores.xlsx", make_xlsx({"Scores": rows}, formula=False),
                ChunkPolicy(target_chars=200, max_chars=300))  # fmt: skip
    chunks = located(write, "cell_range", "row_start", "row_end")
    assert len(chunks) > 3
    expected_row = 2
    for n, (text, cell_range, start, end) in enumerate(chunks):
        lines = str(text).split("\n")
        assert lines[0] == "Name | Score"
        data = lines[1:] if n else lines[1:]
        assert cell_range == f"A{start if n else 1}:B{end}"
        for line in data:
            assert line == f"player{expected_row - 1:03d} | {expected_row - 1}"
            expected_row += 1
    assert expected_row == 62


def test_xlsx_caps_cut_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_DOCUMENT_MAX_SHEET_ROWS", "3")
    rows: list[list[object]] = [["k", "v"]] + [[f"r{n}", n] for n in range(10)]
    write = run("big.xlsx", make_xlsx({"Data": rows}, formula=False))
    [(text, cell_range)] = located(write, "cell_range")
    assert cell_range == "A1:B3"
    assert str(text).count("\n") == 2
    assert write.document is not None
    assert "only the first 3 rows" in write.document.metadata["warnings"][0]


def test_epub_chapters_in_spine_order_with_titles() -> None:
    write = run("book.epub", make_epub())
    assert located(write, "chapter", "chapter_title", "heading_path") == [
        ("The Beginning\n\nOnce upon a time a lighthouse keeper kept a log.\n\n"
         "Once upon a time a lighthouse keeper kept a log. Again, for length.",
         1, "The Beginning", ["The Beginning"]),
        ("The Storm\n\nThe storm came in from the west and lasted all night.\n\n"
         "The storm came in from the west and lasted all night. Again, for length.",
         2, "The Storm", ["The Storm"]),
    ]  # fmt: skip
    document = write.document
    assert document is not None
    assert document.content_type == EPUB
    assert (document.title, document.metadata["author"]) == ("A Small Book", "Ann Author")


@pytest.mark.parametrize(
    ("name", "make", "content_type"),
    [("x.zip", make_docx, DOCX), ("deck", make_pptx, PPTX), ("b.bin", make_xlsx, XLSX),
     ("book.zip", make_epub, EPUB)],
)  # fmt: skip
def test_packages_are_sniffed_by_content_not_name(name: str, make, content_type: str) -> None:  # type: ignore[no-untyped-def]
    write = run(name, make())
    assert write.outcome is Outcome.NEW
    assert write.document is not None
    assert write.document.content_type == content_type


def test_text_that_mentions_the_pdf_magic_stays_text() -> None:
    write = run("notes.md", b"# PDF notes\n\nA PDF file starts with `%PDF-1.7`.\n")
    assert write.document is not None
    assert write.document.content_type == "text/markdown"


def test_epub2_chapter_titles_come_from_the_ncx() -> None:
    write = run("old.epub", make_epub(nav=False))
    assert [(c[1], c[2]) for c in located(write, "chapter", "chapter_title")] == [
        (1, "Part 1: The Beginning"),
        (2, "Part 2: The Storm"),
    ]


def test_epub_declaring_an_entity_is_rejected() -> None:
    book = make_epub()
    chapter = zipfile.ZipFile(io.BytesIO(book)).read("OEBPS/chap1.xhtml").decode()
    chapter = chapter.replace("<!DOCTYPE html>", '<!DOCTYPE html [<!ENTITY e "boom">]>')
    write = run("entity.epub", replace_member(book, "OEBPS/chap1.xhtml", chapter.encode()))
    assert write.errors[0].startswith("entities-forbidden: OEBPS/chap1.xhtml declares")
