"""The zip guard shared by DOCX, PPTX, XLSX and EPUB, run before any parse: member count,
total uncompressed size, compression ratio, unsafe member names, encrypted members, and the
prolog of every XML member (no DTD in OOXML, no entity declaration anywhere: XXE and entity
bombs are refused before a parser sees them). Also recognises an encrypted OOXML file (an
OLE container holding an `EncryptedPackage`).

zipfile never inflates a member past its declared size, and every parser reads through
zipfile, so the declared sizes checked here bound what is decompressed. Nested archives
(embedded workbooks, attachments) are never opened; their size counts in the total."""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from ..content_types import OLE_MAGIC
from .limits import MB, DocumentLimits

_XML_SUFFIXES = (".xml", ".rels", ".opf", ".ncx", ".xhtml", ".html", ".htm", ".vml")
_PROLOG_BYTES = 64 * 1024
_RATIO_FLOOR = MB  # small members compress as they like
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


@dataclass(frozen=True)
class Problem:
    code: str
    message: str


def check_ole(data: bytes) -> Problem | None:
    """An OLE compound file where a zip package was expected: encrypted, or legacy."""
    if not data.startswith(OLE_MAGIC):
        return None
    if _ENCRYPTED_PACKAGE in data:
        return Problem(
            "encrypted",
            "password-protected Office document (an encrypted OLE package); it needs the "
            "password to be read",
        )
    return Problem(
        "legacy-format", "an OLE compound file (legacy .doc/.ppt/.xls), not an OOXML package"
    )


def check_package(data: bytes, limits: DocumentLimits, *, allow_doctype: bool) -> list[Problem]:
    """Every problem that forbids parsing the package (empty when it is safe to open)."""
    ole = check_ole(data)
    if ole is not None:
        return [ole]
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        members = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError) as exc:
        return [Problem("corrupt", f"not a readable zip package: {exc}")]
    problems = _check_members(members, limits)
    if problems:
        return problems
    return _check_xml(package, members, allow_doctype)


def _check_members(members: list[zipfile.ZipInfo], limits: DocumentLimits) -> list[Problem]:
    if len(members) > limits.max_zip_members:
        return [
            Problem(
                "zip-limit",
                f"{len(members)} members, more than the limit of {limits.max_zip_members}",
            )
        ]
    total = sum(member.file_size for member in members)
    if total > limits.max_unzipped_bytes:
        return [
            Problem(
                "zip-limit",
                f"{total / MB:.0f} MiB uncompressed, more than the limit of "
                f"{limits.max_unzipped_mb} MiB",
            )
        ]
    seen: set[str] = set()
    for member in members:
        name = member.filename
        if member.flag_bits & 0x1:
            return [Problem("encrypted", f"member {name!r} is encrypted")]
        path = PurePosixPath(name.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or "\x00" in name:
            return [Problem("zip-unsafe-member", f"member name {name!r} leaves the package")]
        if stat.S_ISLNK(member.external_attr >> 16):
            return [Problem("zip-unsafe-member", f"member {name!r} is a symbolic link")]
        if name in seen:
            return [Problem("zip-unsafe-member", f"member {name!r} appears twice")]
        seen.add(name)
        if member.file_size > _RATIO_FLOOR:
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                return [
                    Problem(
                        "zip-limit",
                        f"member {name!r} expands {ratio:.0f}x ({member.file_size / MB:.0f} "
                        f"MiB), more than the limit of {limits.max_compression_ratio:g}x "
                        "(a zip bomb)",
                    )
                ]
    return []


def _check_xml(
    package: zipfile.ZipFile, members: list[zipfile.ZipInfo], allow_doctype: bool
) -> list[Problem]:
    for member in members:
        if not member.filename.lower().endswith(_XML_SUFFIXES) or member.is_dir():
            continue
        try:
            with package.open(member) as stream:
                head = stream.read(_PROLOG_BYTES)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
            return [Problem("corrupt", f"member {member.filename!r} cannot be read: {exc}")]
        text = _decode_head(head)
        if "<!ENTITY" in text:
            return [
                Problem(
                    "entities-forbidden",
                    f"{member.filename} declares an entity; entity declarations are refused "
                    "(entity expansion and external entities are unsafe)",
                )
            ]
        if not allow_doctype and "<!DOCTYPE" in text:
            return [
                Problem(
                    "dtd-forbidden",
                    f"{member.filename} has a DTD, which no Office document needs; refused",
                )
            ]
    return []


def _decode_head(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"<\x00")):
        return head.decode("utf-16-le", "replace")
    if head.startswith((b"\xfe\xff", b"\x00<")):
        return head.decode("utf-16-be", "replace")
    return head.decode("latin-1")
