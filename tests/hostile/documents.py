"""The hostile documents: zip bombs in each OOXML type (and EPUB), XXE in document.xml, a
password-protected DOCX, and PDFs of 10,000 empty pages, of a 50 MB content stream and of
recursive objects. Each case writes its file under a root and says how its item must end.

`build_documents(root)` writes every case plus good documents, so that one `ingest fs` run
covers them all.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from tests.hostile.cases import Case, Expect, register
from tests.support.documents import (
    empty_pages_pdf,
    encrypt_ooxml,
    huge_stream_pdf,
    make_docx,
    make_epub,
    make_pdf,
    make_pptx,
    make_xlsx,
    recursive_pdf,
    replace_member,
    zip_bomb,
)

#: Planted in a file outside the root that the XXE case names: it must never be stored.
XXE_SECRET = "HOSTILE-XXE-SECRET-81c2e7"
#: The parser bounds the hostile run uses (INGEST_DOCUMENT_* in its environment).
BOUNDS = {"INGEST_DOCUMENT_TIMEOUT_S": "10", "INGEST_DOCUMENT_MEMORY_MB": "512"}

GOOD: dict[str, Callable[[], bytes]] = {
    "good/handbook.pdf": make_pdf,
    "good/manual.docx": make_docx,
    "good/deck.pptx": make_pptx,
    "good/book.xlsx": make_xlsx,
    "good/story.epub": make_epub,
}

Builder = Callable[[Path], list[str]]
DOCUMENT_CASES: list[Case] = []


def _case(
    name: str, summary: str, expect: Expect, *, seconds: float = 5.0, peak_mb: float = 128.0
) -> Callable[[Builder], Builder]:
    def wrap(build: Builder) -> Builder:
        case = Case(
            name=name,
            category="documents",
            runner="fs-flow",
            summary=summary,
            expect=expect,
            max_seconds=seconds,
            max_peak_mb=peak_mb,
            build=build,
        )
        DOCUMENT_CASES.append(case)
        register(case)
        return build

    return wrap


def _write(root: Path, rel: str, data: bytes) -> list[str]:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return [rel]


def _bomb(kind: str, make: Callable[[], bytes]) -> Builder:
    def build(root: Path) -> list[str]:
        return _write(root, f"bombs/bomb.{kind}", zip_bomb(make(), 1024 * 1024 * 1024))

    return build


for _kind, _make in (("docx", make_docx), ("pptx", make_pptx), ("xlsx", make_xlsx),
                     ("epub", make_epub)):  # fmt: skip
    _case(
        f"zip-bomb-{_kind}",
        f"a {_kind.upper()} with a member of 1 GiB of zeros (1 MB compressed)",
        Expect("rejected", "zip-limit"),
    )(_bomb(_kind, _make))


@_case(
    "docx-xxe",
    "DOCX whose document.xml declares an external entity naming a file outside the root",
    Expect("rejected", "entities-forbidden"),
)
def docx_xxe(root: Path) -> list[str]:
    secret = root.parent / "outside-documents" / "secret.txt"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text(XXE_SECRET)
    docx = make_docx()
    body = zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml").decode()
    prolog, rest = body.split("\n", 1)
    doctype = f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
    rest = rest.replace("Oil the gears every spring.", "Oil &xxe; gears")
    data = replace_member(docx, "word/document.xml", f"{prolog}\n{doctype}\n{rest}".encode())
    return _write(root, "xml/xxe.docx", data)


@_case(
    "docx-password-protected",
    "a password-protected DOCX (an OLE container holding an EncryptedPackage)",
    Expect("rejected", "encrypted"),
)
def docx_encrypted(root: Path) -> list[str]:
    return _write(root, "locked/secret.docx", encrypt_ooxml(make_docx()))


@_case(
    "pdf-10k-empty-pages",
    "a PDF of 10,000 pages with nothing on them (skipped: no text layer)",
    Expect("skipped", "no-text-layer"),
    seconds=10.0,
)
def pdf_empty_pages(root: Path) -> list[str]:
    return _write(root, "pdf/empty-pages.pdf", empty_pages_pdf(10_000))


@_case(
    "pdf-50mb-content-stream",
    "a PDF page whose content stream inflates to 50 MB of drawing operators (parsed in the "
    "sandbox under 512 MiB: it ends there, the run goes on)",
    Expect("rejected", "parser-crashed"),
    seconds=20.0,
    # The sandbox's address space is capped at 512 MiB (BOUNDS): that is this case's bound.
    peak_mb=600.0,
)
def pdf_huge_stream(root: Path) -> list[str]:
    return _write(root, "pdf/huge-stream.pdf", huge_stream_pdf(50))


@_case(
    "pdf-recursive-objects",
    "a PDF whose page tree is its own kid and whose outline item is its own next",
    Expect("rejected", "corrupt"),
)
def pdf_recursive(root: Path) -> list[str]:
    return _write(root, "pdf/recursive.pdf", recursive_pdf())


def build_documents(root: Path) -> dict[str, list[str]]:
    """Write the good documents and every case; {case name: item paths}."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, make in GOOD.items():
        _write(root, rel, make())
    return {case.name: case.build(root) for case in DOCUMENT_CASES if case.build is not None}
