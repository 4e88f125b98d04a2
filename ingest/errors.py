"""The one error tree of aichemist-ingest; callers catch `IngestError`.

    IngestError
    ├── ConfigurationError       bad usage or settings, found before any work (exit 2)
    ├── SourceAccessError        an item or a source cannot be listed or read
    │   ├── ItemTooLargeError    the item is over the size cap
    │   └── ItemGoneError        the item no longer exists (vanished file, HTTP 404/410)
    ├── ItemSkippedError         not ingested by policy or by type (the item is skipped)
    ├── ProcessingError          a processor could not turn content into a document
    ├── StoreError               the store could not read or write
    ├── AuthenticationError      credentials missing, wrong or refused
    └── RunFailedError           a run ended Failed (carries the report)
        ├── ItemsFailedError     some items failed: resumable
        ├── TooManyRejectedError more rejected than the run allows
        └── TooManyDeletionsError a complete discovery would delete too much (nothing is)

Every error carries structured context and builds its own message from it, so a
log line or a report entry always names the item and the stage.
"""

from __future__ import annotations

from typing import Any, ClassVar


class IngestError(Exception):
    """Root of every error raised on purpose by aichemist-ingest."""

    default_stage: ClassVar[str | None] = None
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        source_id: str | None = None,
        uri: str | None = None,
        stage: str | None = None,
        processor_id: str | None = None,
        retryable: bool | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.reason = message
        self.source_id = source_id
        self.uri = uri
        self.stage = stage or self.default_stage
        self.processor_id = processor_id
        self.retryable = self.default_retryable if retryable is None else retryable
        self.details = dict(details or {})
        super().__init__(self._build_message())

    def _build_message(self) -> str:
        where = f"{self.uri}: " if self.uri else ""
        by = f" [{self.processor_id}]" if self.processor_id else ""
        stage = f"{self.stage}{by}: " if self.stage else ""
        return f"{where}{stage}{self.reason}"

    @property
    def error_type(self) -> str:
        return type(self).__name__

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (process pools, persisted Prefect results).
        return (_rebuild, (type(self), self.reason, self._fields()))

    def _fields(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "uri": self.uri,
            "stage": self.stage,
            "processor_id": self.processor_id,
            "retryable": self.retryable,
            "details": self.details,
        }


def _rebuild(cls: type[IngestError], message: str, fields: dict[str, Any]) -> IngestError:
    return cls(message, **fields)


class ConfigurationError(IngestError):
    """Bad usage, options or settings; reported before any work is done."""


class SourceAccessError(IngestError):
    """A source or one of its items cannot be listed or read."""

    default_stage = "fetch"


class ItemTooLargeError(SourceAccessError):
    """The item is larger than the configured cap."""


class ItemGoneError(SourceAccessError):
    """The item no longer exists at the source: a stored copy is tombstoned."""


class ItemSkippedError(IngestError):
    """The item is not ingested, by policy or by type (empty, an image, over the size cap,
    a scanned PDF without a text layer): not a problem, counted as `skipped` under `code`."""

    default_stage = "validate"

    def __init__(self, message: str, *, code: str, **fields: Any) -> None:
        details = {**(fields.pop("details", None) or {}), "code": code}
        super().__init__(message, details=details, **fields)

    @property
    def code(self) -> str:
        return str(self.details["code"])

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_skipped, (self.reason, self.code, self._fields()))


def _rebuild_skipped(message: str, code: str, fields: dict[str, Any]) -> ItemSkippedError:
    return ItemSkippedError(message, code=code, **fields)


class ProcessingError(IngestError):
    """A processor could not turn the content into a document."""

    default_stage = "process"


class StoreError(IngestError):
    """The store could not be read or written."""

    default_stage = "store"
    default_retryable = True


class AuthenticationError(IngestError):
    """Credentials are missing, wrong or refused."""

    default_stage = "fetch"


class RunFailedError(IngestError):
    """A run ended Failed; `report` is its full run report."""

    def __init__(self, message: str, report: Any, *, retryable: bool, **extra: Any) -> None:
        super().__init__(
            message, stage="run", retryable=retryable, details={"report": report, **extra}
        )

    @property
    def report(self) -> Any:
        return self.details["report"]

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.report,))


class ItemsFailedError(RunFailedError):
    """A run ended with failed items. It is resumable: running it again (or retrying
    it) redoes only what did not complete."""

    def __init__(self, report: Any) -> None:
        super().__init__(
            f"{report.counts.failed} item(s) failed; run again or retry the run to resume",
            report,
            retryable=True,
        )


class TooManyRejectedError(RunFailedError):
    """The rejected share of a run is above the allowed maximum. Rejections are final
    for their content, so running again would reject the same items."""

    def __init__(self, report: Any, limit: float) -> None:
        counts = report.counts
        super().__init__(
            f"{counts.rejected} of {counts.discovered} item(s) rejected "
            f"({counts.rejected / counts.discovered:.1%}), more than the maximum rejected "
            f"share of {limit:.1%}; see the rejected items in the report",
            report,
            retryable=False,
            limit=limit,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.report, self.details["limit"]))


class TooManyDeletionsError(RunFailedError):
    """A complete discovery would mark deleted more than the allowed share of the source's
    live items (an empty mount point, a site that answers with an empty page): nothing
    was deleted. The run is resumable: run again once the source is back, or with a
    higher `--max-delete-share` when the deletions are meant."""

    def __init__(self, report: Any, unseen: int, live: int, limit: float) -> None:
        super().__init__(
            f"refused to mark {unseen} of {live} live item(s) deleted "
            f"({unseen / live:.1%} of the source), more than the maximum delete share "
            f"of {limit:.0%}; nothing was deleted. If the source really lost them, run "
            "again with --max-delete-share 1 (max_delete_share=1.0 in the flow parameters)",
            report,
            retryable=True,
            unseen=unseen,
            live=live,
            limit=limit,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        d = self.details
        return (type(self), (self.report, d["unseen"], d["live"], d["limit"]))
