"""Binary documents, checked before any parse: not empty, and for the zip-based formats
(DOCX, PPTX, XLSX, EPUB) the zip guard (`ingest.documents.zipguard`): member count,
uncompressed size, compression ratio, member names, DTDs and entity declarations; an
encrypted OOXML file (an OLE `EncryptedPackage`) is refused as `encrypted`.

Codes: errors ``empty``, ``encrypted``, ``legacy-format``, ``corrupt``, ``zip-limit``,
``zip-unsafe-member``, ``entities-forbidden``, ``dtd-forbidden``.
"""

from __future__ import annotations

from typing import ClassVar

from ..content_types import DOCUMENT_TYPES, EPUB, PDF
from ..documents.limits import document_limits
from ..documents.zipguard import check_package
from ..models import FetchedContent, ValidationIssue, ValidationResult
from .policy import PolicyValidator


class DocumentValidator(PolicyValidator):
    name: ClassVar[str] = "document"
    content_types: ClassVar[tuple[str, ...]] = DOCUMENT_TYPES

    def validate(self, content: FetchedContent) -> ValidationResult:
        size = len(content.data)
        if size < max(self.policy.min_size, 1):
            message = f"{size} bytes, less than the minimum of {max(self.policy.min_size, 1)}"
            return ValidationResult(errors=[ValidationIssue(code="empty", message=message)])
        if content.content_type == PDF:
            return ValidationResult()
        problems = check_package(
            content.data, document_limits(), allow_doctype=content.content_type == EPUB
        )
        return ValidationResult(
            errors=[ValidationIssue(code=p.code, message=p.message) for p in problems]
        )
