"""PDF golden tests: documents written with fpdf2, every chunk's text and pages checked."""

from __future__ import annotations

import pytest

from ingest.content_types import PDF
from ingest.documents.extraction import ExtractionError
from ingest.documents.limits import DocumentLimits
from ingest.documents.pdf_text import extract_pdf
from ingest.models import Outcome
from ingest.processors.base import ChunkPolicy
from tests.ingest.documents.helpers import located, run
from tests.support.documents import PDF_PAGES, make_blank_pdf, make_pdf


def test_outline_gives_sections_and_every_chunk_its_page() -> None:
    write = run("handbook.pdf", make_pdf())
    assert write.outcome is Outcome.NEW
    assert located(write, "heading_path", "page_start", "page_end") == [
        ("Introduction\nAardvarks are the first topic of this handbook.", ["Introduction"], 1, 1),
        ("Installation\nBadgers dig the installation pits on the second page.",
         ["Installation"], 2, 2),
        ("Requirements\nCapybaras need warm water, as the third page says.",
         ["Installation", "Requirements"], 3, 3),
        ("Usage\nDolphins swim through the usage chapter on page four.\n"
         "Animal Legs\nEmu 2\nFox 4", ["Usage"], 4, 4),
    ]  # fmt: skip
    document = write.document
    assert document is not None
    assert document.content_type == PDF
    assert document.title == "Field Handbook"
    assert document.metadata["author"] == "Ada Tester"
    assert document.metadata["page_count"] == 4
    assert document.metadata["created"][:4].isdigit()
    assert [entry["page"] for entry in document.metadata["outline"]] == [1, 2, 3, 4]


def test_without_outline_a_chunk_over_several_pages_says_so() -> None:
    write = run("plain.pdf", make_pdf(outline=False, table=None))
    [(text, path, start, end)] = located(write, "heading_path", "page_start", "page_end")
    assert (path, start, end) == ([], 1, 4)
    assert [body in text for _, _, body in PDF_PAGES] == [True] * 4


def test_small_chunks_keep_their_own_page() -> None:
    pages = [(f"Part {n}", 0, " ".join(f"word{n}x{i}" for i in range(60))) for n in range(1, 4)]
    write = run("long.pdf", make_pdf(pages, table=None, outline=False),
                ChunkPolicy(target_chars=120, max_chars=200))  # fmt: skip
    chunks = located(write, "page_start", "page_end")
    assert len(chunks) > 6
    for text, start, end in chunks:
        assert start == end, "a piece of one page stays on that page"
        words = [w for w in str(text).split() if w.startswith("word")]
        assert {w.split("x")[0] for w in words} == {f"word{start}"}, (text, start)
        assert len(str(text)) <= 200


def test_encrypted_pdf_is_rejected_as_encrypted() -> None:
    write = run("locked.pdf", make_pdf(user_password="hunter2"))
    assert write.outcome is Outcome.REJECTED
    assert write.errors == ["encrypted: encrypted PDF that needs a password"]


def test_owner_password_only_is_read() -> None:
    write = run("restricted.pdf", make_pdf(user_password=""))
    assert write.outcome is Outcome.NEW


def test_no_text_layer_is_skipped_naming_the_page_count() -> None:
    with pytest.raises(ExtractionError) as caught:
        extract_pdf(make_blank_pdf(3), DocumentLimits())
    assert caught.value.code == "no-text-layer"
    assert "3 page" in caught.value.message
    write = run("scan.pdf", make_blank_pdf(3))
    # Not stored, and recorded under its code (`skipped` once that outcome exists).
    assert write.document is None
    assert write.outcome in {"skipped", Outcome.REJECTED}
    assert write.errors[0].startswith("no-text-layer: no text layer on any of its 3 page(s)")


@pytest.mark.parametrize(("name", "cut"), [("truncated", slice(0, 400)), ("garbage", slice(0, 0))])
def test_corrupt_pdf_is_rejected_with_the_parsers_reason(name: str, cut: slice) -> None:
    data = make_pdf()
    data = data[cut] if name == "truncated" else b"%PDF-1.7\n" + b"\x13garbage" * 200
    write = run(f"{name}.pdf", data)
    assert write.outcome is Outcome.REJECTED
    assert write.errors[0].startswith("corrupt: unreadable PDF: Failed to load document")


def test_pdf_is_sniffed_whatever_its_name() -> None:
    write = run("report.txt", make_pdf())
    assert write.document is not None
    assert write.document.content_type == PDF
    assert write.document.chunks[0].metadata["page_start"] == 1


def test_page_cap_reads_the_first_pages_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_DOCUMENT_MAX_PAGES", "2")
    write = run("capped.pdf", make_pdf())
    assert write.document is not None
    assert {c.metadata["page_end"] for c in write.document.chunks} == {1, 2}
    assert write.document.metadata["page_count"] == 4
    assert "only the first 2 of 4 pages" in write.document.metadata["warnings"][0]
