"""The store interface: documents, chunks, per-item state, jobs and runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Self

from pydantic import BaseModel, Field

from ..models import ExportRecord, Failure, Outcome, ProcessedDocument, RunReport


class StoredState(BaseModel):
    """What the store knows of one item (a uri within a source)."""

    uri: str
    fingerprint: str | None
    content_hash: str | None
    outcome: Outcome = Field(description="The outcome recorded by the last write.")
    job_id: str | None = Field(description="The job whose run wrote it last.")
    deleted: bool = False
    errors: list[str] = Field(
        default_factory=list,
        description="Reasons of a rejection; for a skipped item the one `code: reason`.",
    )
    has_document: bool = Field(
        default=False, description="Its current content is represented by a live document."
    )
    content_type: str | None = Field(
        default=None, description="The content type of its document, when it has one."
    )
    processor: str | None = Field(
        default=None,
        description="`name:version` of the processor that produced its document; None "
        "without a document, or when unknown (stored before the store recorded it).",
    )


class ItemWrite(BaseModel):
    """One item's result to persist. `document` is set for new and updated items;
    `errors` for rejected ones (the one `code: reason` for skipped ones); failed items
    are recorded through `failure` and leave the item's state untouched, so the next
    run tries again."""

    uri: str
    outcome: Outcome
    fingerprint: str | None = None
    content_hash: str | None = None
    document: ProcessedDocument | None = None
    errors: list[str] = Field(default_factory=list)
    failure: Failure | None = None
    processor: str | None = Field(
        default=None,
        description="`name:version` of the processor that produced `document`.",
    )
    links: list[str] | None = Field(
        default=None,
        description="A crawled page's outgoing links (normalised, in scope), kept beside "
        "its fingerprint; None keeps what is stored.",
    )


class StoredLinks(BaseModel):
    """What a crawl found behind a URL on its last successful fetch: a page's links or a
    sitemap's URLs, and the fingerprint (ETag / Last-Modified) they go with."""

    url: str
    kind: str = Field(description="page, urlset or sitemapindex.")
    fingerprint: str | None
    links: list[str]


class IntegrityProblem(BaseModel):
    code: str
    message: str


class Store(ABC):
    """Persistent home of processed documents.

    Jobs: a job is one attempt to bring a source up to date with a given set of
    output-affecting parameters (`job_key`). Runs of an unfinished job resume it;
    a job is finished when a run of it completes without failed items.
    """

    @abstractmethod
    def begin_job(self, source_id: str, job_key: str) -> str:
        """Return the id of the unfinished job for (source_id, job_key), or start one."""

    @abstractmethod
    def finish_job(self, job_id: str) -> None: ...

    @abstractmethod
    def lookup(self, source_id: str, uris: Iterable[str]) -> dict[str, StoredState]:
        """Current state of the given items; unknown uris are absent."""

    @abstractmethod
    def iter_items(self, source_id: str) -> Iterator[StoredState]:
        """Every item of the source, deleted ones included, ordered by uri."""

    @abstractmethod
    def write_batch(
        self, source_id: str, job_id: str, run_id: str, writes: list[ItemWrite]
    ) -> None:
        """Persist a batch in one transaction: upsert documents (replacing their
        chunks), item states and failures. Writing the same batch twice leaves
        the same contents (idempotent)."""

    @abstractmethod
    def iter_links(self, source_id: str) -> Iterator[StoredLinks]:
        """Every link record of the source (one query), ordered by url."""

    @abstractmethod
    def save_links(self, source_id: str, records: list[StoredLinks]) -> None:
        """Upsert link records (sitemaps; pages are kept through `write_batch`)."""

    @abstractmethod
    def count_unseen(self, source_id: str, job_id: str) -> tuple[int, int]:
        """(live items `job_id` did not see or write, live items): what
        `tombstone_unseen` would mark deleted, out of how many."""

    @abstractmethod
    def mark_seen(self, source_id: str, job_id: str, uris: Iterable[str]) -> None:
        """Record that discovery in `job_id` saw these items."""

    @abstractmethod
    def tombstone_unseen(self, source_id: str, job_id: str, run_id: str) -> list[str]:
        """Mark deleted every live item of the source that `job_id` did not see or
        write; return their uris. Call only after a complete discovery."""

    @abstractmethod
    def record_run(
        self, report: RunReport, job_id: str, source_id: str, parameters: dict[str, object]
    ) -> None: ...

    @abstractmethod
    def iter_export(self, include_deleted: bool = False) -> Iterator[ExportRecord]: ...

    @abstractmethod
    def get_document(self, source_id: str, uri: str) -> ExportRecord | None:
        """The document of an item, deleted or not, with its chunks."""

    @abstractmethod
    def check(self) -> list[IntegrityProblem]: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
