"""The zip guard, XML safety and the sandbox's bounds, one document at a time."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from ingest.documents.limits import DocumentLimits, document_limits
from ingest.documents.sandbox import Sandbox, SandboxTimeout
from ingest.documents.word import extract_docx
from ingest.models import Outcome
from tests.ingest.documents.helpers import run
from tests.support.documents import (
    encrypt_ooxml,
    make_docx,
    make_epub,
    make_pptx,
    make_xlsx,
    replace_member,
    zip_bomb,
)

SECRET = "XXE-SECRET-3f9a"


def _xxe_document(secret_uri: str) -> bytes:
    docx = make_docx()
    body = zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml").decode()
    prolog, rest = body.split("\n", 1) if body.startswith("<?xml") else ("", body)
    doctype = f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{secret_uri}">]>'
    rest = rest.replace("Oil the gears every spring.", "Oil &xxe; gears")
    return replace_member(docx, "word/document.xml", f"{prolog}\n{doctype}\n{rest}".encode())


@pytest.mark.parametrize(
    ("name", "make"),
    [("bomb.docx", make_docx), ("bomb.pptx", make_pptx), ("bomb.xlsx", make_xlsx),
     ("bomb.epub", make_epub)],
)  # fmt: skip
def test_zip_bomb_is_rejected_before_any_parse(name: str, make) -> None:  # type: ignore[no-untyped-def]
    started = time.process_time()
    write = run(name, zip_bomb(make(), 64 * 1024 * 1024))
    assert write.outcome is Outcome.REJECTED
    assert write.errors[0].startswith("zip-limit: member 'customXml/item9.xml' expands"), write
    assert time.process_time() - started < 2


def test_too_many_members_and_too_large_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_DOCUMENT_MAX_ZIP_MEMBERS", "5")
    write = run("many.docx", make_docx())
    assert write.errors[0].startswith("zip-limit: ")
    assert "more than the limit of 5" in write.errors[0]


def test_unsafe_member_names_are_rejected() -> None:
    write = run("escape.docx", replace_member(make_docx(), "../../evil.xml", b"<a/>"))
    assert write.errors[0].startswith("zip-unsafe-member: member name '../../evil.xml'")


def test_xxe_in_document_xml_is_rejected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    write = run("xxe.docx", _xxe_document(secret.as_uri()))
    assert write.outcome is Outcome.REJECTED
    assert write.errors[0].startswith("entities-forbidden: word/document.xml declares an entity")


def test_the_parser_itself_never_expands_entities(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The second wall: even past the guard, python-docx's parser resolves nothing."""
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    extracted = extract_docx(_xxe_document(secret.as_uri()), DocumentLimits())
    text = " ".join(block.text for part in extracted.parts for block in part.blocks)
    assert SECRET not in text
    assert "Maintenance" in text
    assert "Oil" in text, "the paragraph is read, the entity reference left out"


def test_password_protected_docx_is_rejected_as_encrypted() -> None:
    write = run("locked.docx", encrypt_ooxml(make_docx()))
    assert write.outcome is Outcome.REJECTED
    assert write.errors[0].startswith("encrypted: password-protected Office document")


def test_damaged_package_is_rejected_as_corrupt() -> None:
    data = make_docx()
    write = run("torn.docx", data[: len(data) // 2])
    assert write.outcome is Outcome.REJECTED
    assert write.errors[0].startswith("corrupt: ")


def test_sandbox_timeout_kills_the_child_and_the_next_parse_works() -> None:
    box = Sandbox()
    try:
        assert "ok" in box.run("docx", make_docx(), DocumentLimits())
        first = box._process
        with pytest.raises(SandboxTimeout):
            box.run("docx", make_docx(), DocumentLimits(timeout_s=0.001))
        assert first is not None
        assert first.poll() is not None, "the child was killed"
        assert "ok" in box.run("docx", make_docx(), DocumentLimits())
    finally:
        box.stop()


def test_a_parse_over_its_time_bound_fails_retryably(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_DOCUMENT_TIMEOUT_S", "0.001")
    write = run("slow.docx", make_docx())
    assert write.outcome is Outcome.FAILED
    assert write.failure is not None
    assert write.failure.retryable
    assert write.failure.message == "parsing took longer than 0.001 s"
    monkeypatch.setenv("INGEST_DOCUMENT_TIMEOUT_S", "30")
    document_limits.cache_clear()
    assert run("fine.docx", make_docx()).outcome is Outcome.NEW


def test_a_symlink_member_is_rejected() -> None:
    source = zipfile.ZipFile(io.BytesIO(make_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        link = zipfile.ZipInfo("word/media/link.png")
        link.external_attr = 0o120777 << 16
        target.writestr(link, "/etc/passwd")
    write = run("link.docx", out.getvalue())
    assert write.errors == ["zip-unsafe-member: member 'word/media/link.png' is a symbolic link"]
