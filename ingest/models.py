"""The data that flows through the pipeline, and the run report of the contract."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Outcome(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    REJECTED = "rejected"
    FAILED = "failed"
    DELETED = "deleted"


class Stage(StrEnum):
    DISCOVER = "discover"
    FETCH = "fetch"
    VALIDATE = "validate"
    PROCESS = "process"
    STORE = "store"


def document_id(source_id: str, uri: str) -> str:
    """Stable id of the document for `uri` in `source_id`."""
    return hashlib.sha256(f"{source_id}\0{uri}".encode()).hexdigest()[:32]


def content_hash(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class SourceItem(BaseModel):
    """One item as discovered: enough to decide whether it changed, no content."""

    model_config = ConfigDict(frozen=True)

    source_id: str
    uri: str
    size: int | None = None
    fingerprint: str | None = Field(
        default=None,
        description="Cheap change marker: size+mtime for files, ETag/Last-Modified for the web.",
    )
    content_type: str | None = Field(default=None, description="Guessed from the name.")
    path: str | None = Field(default=None, description="Location relative to the source root.")
    problem: str | None = Field(
        default=None,
        description="Set when discovery already knows the item cannot be taken (the reason).",
    )
    problem_code: str | None = None
    links: tuple[str, ...] | None = Field(
        default=None,
        description="A crawled page's outgoing links (normalised, in scope), stored beside "
        "its fingerprint; None when this fetch did not learn them.",
    )


class FetchedContent(BaseModel):
    """Bytes of one item, decoded when they are text."""

    item: SourceItem
    data: bytes
    content_type: str
    content_hash: str
    text: str | None = None
    encoding: str | None = None
    is_binary: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict)


class ValidationIssue(BaseModel):
    code: str
    message: str
    location: str | None = Field(
        default=None, description="line:column, a JSON pointer, 'row N', ..."
    )

    def __str__(self) -> str:
        where = f" at {self.location}" if self.location else ""
        return f"{self.code}{where}: {self.message}"


class ValidationResult(BaseModel):
    errors: list[ValidationIssue] = Field(default_factory=list)
    warnings: list[ValidationIssue] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def merge(self, other: ValidationResult) -> ValidationResult:
        return ValidationResult(
            errors=[*self.errors, *other.errors], warnings=[*self.warnings, *other.warnings]
        )


class Chunk(BaseModel):
    """A meaningful piece of a document that says where it came from.

    `metadata` holds the location (heading_path, symbol, start_line, end_line, ...),
    the content type and a stable `chunk_id`.
    """

    seq: int
    text: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class ProcessedDocument(BaseModel):
    id: str
    source: str
    uri: str
    content_type: str
    content_hash: str
    title: str | None = None
    text: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    chunks: list[Chunk] = Field(default_factory=list)


class ExportRecord(ProcessedDocument):
    """One line of `ingest export` (docs/architecture.md, "Contracts")."""

    run_id: str | None = None
    updated_at: datetime
    deleted: bool = False


class Failure(BaseModel):
    uri: str
    stage: str
    error_type: str
    message: str
    retryable: bool = False


class Rejection(BaseModel):
    uri: str
    errors: list[str]


class Skip(BaseModel):
    """An item not ingested by policy or by type: not a problem, counted under `code`
    (`empty`, `binary`, `unsupported-type`, `unsupported-content-type`, `too-large`, ...)."""

    uri: str
    code: str
    reason: str

    def entry(self) -> str:
        """How the store keeps it among the item's reasons: `code: reason`."""
        return f"{self.code}: {self.reason}"

    @classmethod
    def from_entry(cls, uri: str, entry: str) -> Skip:
        code, _, reason = entry.partition(": ")
        return cls(uri=uri, code=code, reason=reason or code)


class ItemResult(BaseModel):
    """The one outcome of one item in one run."""

    uri: str
    outcome: Outcome
    failure: Failure | None = None
    rejection: Rejection | None = None
    skip: Skip | None = None


class Counts(BaseModel):
    discovered: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rejected: int = 0
    failed: int = 0
    deleted: int = 0

    def add(self, outcome: Outcome, n: int = 1) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + n)

    def merge(self, other: Counts) -> None:
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class PhaseTiming(BaseModel):
    items: int = 0
    seconds: float = 0.0


class BatchResult(BaseModel):
    """What a batch hands back to the flow: small, no contents, no secrets."""

    counts: Counts = Field(default_factory=Counts)
    failures: list[Failure] = Field(default_factory=list)
    rejected: list[Rejection] = Field(default_factory=list)
    skipped: list[Skip] = Field(default_factory=list)
    phases: dict[str, PhaseTiming] = Field(default_factory=dict)

    def record(self, result: ItemResult) -> None:
        self.counts.add(result.outcome)
        if result.failure is not None:
            self.failures.append(result.failure)
        if result.rejection is not None:
            self.rejected.append(result.rejection)
        if result.skip is not None:
            self.skipped.append(result.skip)

    def time(self, phase: str, seconds: float, items: int = 1) -> None:
        timing = self.phases.setdefault(phase, PhaseTiming())
        timing.items += items
        timing.seconds += seconds

    def merge(self, other: BatchResult) -> None:
        self.counts.merge(other.counts)
        self.failures.extend(other.failures)
        self.rejected.extend(other.rejected)
        self.skipped.extend(other.skipped)
        for phase, timing in other.phases.items():
            self.time(phase, timing.seconds, timing.items)


class RunReport(BaseModel):
    """The run report of the contract (`--json` and the flow's return value)."""

    run_id: str
    flow: str
    state: str
    counts: Counts = Field(default_factory=Counts)
    failures: list[Failure] = Field(default_factory=list)
    rejected: list[Rejection] = Field(default_factory=list)
    skipped: list[Skip] = Field(default_factory=list)
    duration_s: float = 0.0
    phases: dict[str, PhaseTiming] = Field(default_factory=dict)
    notes: list[str] = Field(
        default_factory=list,
        description="What the run as a whole did not do, and why (e.g. why nothing was "
        "marked deleted).",
    )

    def skipped_by_code(self) -> dict[str, int]:
        """How many items were skipped for each reason code, most frequent first."""
        return dict(Counter(skip.code for skip in self.skipped).most_common())
