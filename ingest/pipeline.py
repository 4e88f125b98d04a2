"""One batch through fetch, validate, process and store: the work every flow maps.

Plain Python, so the same code runs in a Prefect task, in a benchmark loop or in
a test. Each item ends in exactly one outcome; an item's failure never stops the
batch, and the batch's writes commit in one transaction.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool as BrokenExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

from pydantic import BaseModel, ConfigDict, Field

from .content_types import (
    BINARY,
    GENERIC_TYPES,
    is_document,
    not_text_type,
    sniff_content_type,
    sniff_document_type,
)
from .decoding import decode_bytes
from .errors import (
    IngestError,
    ItemGoneError,
    ItemSkippedError,
    ItemTooLargeError,
    ProcessingError,
)
from .freshness import needs_reprocessing
from .models import (
    BatchResult,
    Failure,
    FetchedContent,
    ItemResult,
    Outcome,
    ProcessedDocument,
    Rejection,
    Skip,
    SourceItem,
    Stage,
    content_hash,
)
from .processors import has_processor, pipeline_version, processor_for, processor_id
from .processors.base import ChunkPolicy
from .progress import batch_progress
from .sources.base import Source
from .store.base import ItemWrite, Store, StoredState
from .validators import ValidationPolicy, validate

# ast.parse from several threads at once crashes CPython 3.11, and CPU work in
# threads gains nothing under the GIL: content work runs one batch at a time
# per process; parallelism comes from a process pool (see `ingest.parallel`).
_CPU_LOCK = threading.Lock()

# Reason codes of the `skipped` outcome: items this tool does not ingest by policy or
# by type. Anything else that stops an item is a rejection (its content is invalid).
EMPTY = "empty"
BINARY_CONTENT = "binary"
UNSUPPORTED_TYPE = "unsupported-type"
UNSUPPORTED_CONTENT_TYPE = "unsupported-content-type"
TOO_LARGE = "too-large"
# What discovery already knows it will not take, by policy (see the folder source).
SKIPPED_PROBLEMS = frozenset(
    {TOO_LARGE, "symlink-outside-root", "symlink-not-followed", "special-file"}
)
_NOT_BLANK = re.compile(r"\S")


@dataclass(frozen=True)
class _Content:
    """Fetched bytes waiting for the CPU work: decode, validate, process."""

    item: SourceItem
    data: bytes
    digest: str
    live: bool


# Bump when `BatchResult` changes shape or meaning, so that a retry never reuses a result
# persisted by an older version (2: the `skipped` outcome and its list).
RESULT_FORMAT = "2"


class BatchConfig(BaseModel):
    """What every batch of one run shares, whatever the source: the one configuration of
    a batch, the same in this process, in a worker process and in a Prefect task.

    It pickles and serialises (a task parameter); it holds no secrets: a store password
    comes from the environment of the process that opens the store, never from here.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str
    run_id: str = "local"
    store_url: str | None = Field(
        default=None, description="Where a worker process opens the store (no password)."
    )
    pipeline_version: str = Field(default_factory=pipeline_version)
    validation: ValidationPolicy = Field(default_factory=ValidationPolicy)
    chunking: ChunkPolicy = Field(default_factory=ChunkPolicy)
    full: bool = False
    workers: int = Field(
        default=1, ge=1, description="Processes for the batch (1: in this process)."
    )

    def cache_identity(self) -> tuple[str, ...]:
        """What, besides its items, decides a batch's result: the pipeline version, the
        result format and the job (which stands for every output setting). Never the run,
        the store's address, the worker count or anything secret."""
        return (self.pipeline_version, RESULT_FORMAT, self.job_id)


@dataclass
class BatchContext:
    """A batch's live parts: where it reads and writes, and its configuration."""

    source: Source
    store: Store
    config: BatchConfig
    cpu_pool: Executor | None = None


@dataclass
class _Timer:
    result: BatchResult

    @contextmanager
    def phase(self, stage: Stage) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.result.time(stage.value, time.perf_counter() - started)


def run_batch(items: list[SourceItem], ctx: BatchContext) -> BatchResult:
    """Take every item to its outcome and commit the batch's writes together.

    Fetching runs here; the CPU work on fetched content runs in `ctx.cpu_pool`
    when there is one, else here.
    """
    result = BatchResult()
    timer = _Timer(result)
    progress = batch_progress(items)
    states = ctx.store.lookup(ctx.source.source_id, [item.uri for item in items])
    taken = [_take_item(item, states.get(item.uri), ctx, timer) for item in items]
    progress.passed(len(items), Stage.FETCH)
    contents = [entry for entry in taken if isinstance(entry, _Content)]
    processed = iter(_process_all(contents, ctx, timer))
    progress.passed(len(items), Stage.VALIDATE, Stage.PROCESS)
    writes = [entry if isinstance(entry, ItemWrite) else next(processed) for entry in taken]
    writes = [_with_links(write, item) for write, item in zip(writes, items, strict=True)]
    for write in writes:
        result.record(_item_result(write))
    with timer.phase(Stage.STORE):
        ctx.store.write_batch(ctx.source.source_id, ctx.config.job_id, ctx.config.run_id, writes)
    progress.passed(len(writes), Stage.STORE)
    result.phases[Stage.STORE.value].items = len(writes)
    return result


def _process_all(contents: list[_Content], ctx: BatchContext, timer: _Timer) -> list[ItemWrite]:
    config = ctx.config
    work = partial(process_content, validation=config.validation, chunking=config.chunking)
    if ctx.cpu_pool is None or len(contents) < 2:
        with _CPU_LOCK:
            done = [work(content) for content in contents]
    else:
        try:
            done = list(ctx.cpu_pool.map(work, contents, chunksize=max(1, len(contents) // 8)))
        except BrokenExecutor as exc:
            # A worker died (a parser crashed the process): the items are not done,
            # and the next run tries them again.
            crash = IngestError(f"the worker process died: {exc}", retryable=True)
            return [_failed(c.item, Stage.PROCESS.value, crash, retryable=True) for c in contents]
    writes: list[ItemWrite] = []
    for write, validate_s, process_s in done:
        timer.result.time(Stage.VALIDATE.value, validate_s)
        if process_s is not None:
            timer.result.time(Stage.PROCESS.value, process_s)
        writes.append(write)
    return writes


def is_current(item: SourceItem, state: StoredState | None) -> bool:
    """True when the store already holds this item as discovered (same fingerprint),
    processed by today's version of its processor."""
    return (
        state is not None
        and not state.deleted
        and item.fingerprint is not None
        and state.fingerprint == item.fingerprint
        and not _skip_lifted(item, state)
        and not needs_reprocessing(state)
    )


def _skip_lifted(item: SourceItem, state: StoredState) -> bool:
    """A file skipped for what discovery saw (over the size cap, a symlink out of the root)
    that discovery now takes: the cap was raised or the symlink allowed."""
    if state.outcome is not Outcome.SKIPPED or item.problem_code is not None or _from_web(item):
        return False
    return bool(state.errors) and state.errors[0].partition(":")[0] in SKIPPED_PROBLEMS


def _take_item(
    item: SourceItem, state: StoredState | None, ctx: BatchContext, timer: _Timer
) -> ItemWrite | _Content:
    if is_current(item, state) and state is not None:
        if state.job_id == ctx.config.job_id:
            # Written by an earlier run of this job (a crash or a retry): report it
            # as recorded, without reading it again.
            return ItemWrite(
                uri=item.uri,
                outcome=state.outcome,
                fingerprint=state.fingerprint,
                content_hash=state.content_hash,
                errors=state.errors,
            )
        if not ctx.config.full:
            return _unchanged(item, state.content_hash)
    if item.problem is not None:
        code = item.problem_code or "unusable"
        if code in SKIPPED_PROBLEMS:
            return _skipped(item, None, code, item.problem)
        return _rejected(item, None, [f"{code}: {item.problem}"])
    unsupported = _unsupported_type(item)
    if unsupported is not None:
        return _skipped(item, None, *unsupported)
    try:
        with timer.phase(Stage.FETCH):
            data = ctx.source.fetch(item)
            digest = content_hash(data)
    except ItemSkippedError as exc:
        return _skipped(item, None, exc.code, exc.reason)
    except ItemTooLargeError as exc:
        return _skipped(item, None, TOO_LARGE, exc.reason)
    except ItemGoneError as exc:
        if state is not None and not state.deleted and not state.errors:
            # It was stored (a rejected item keeps its reasons and has no document).
            return ItemWrite(uri=item.uri, outcome=Outcome.DELETED)
        return _rejected(item, None, [f"gone: {exc.reason}"])
    except IngestError as exc:
        return _failed(item, exc.stage or Stage.FETCH.value, exc, exc.retryable)
    except Exception as exc:  # a bug must fail one item, not the batch
        return _failed(item, Stage.FETCH.value, exc, retryable=False)
    live = state is not None and not state.deleted
    same = live and state is not None and state.content_hash == digest
    if same and not ctx.config.full and state is not None and not needs_reprocessing(state):
        return _unchanged(item, digest)
    return _Content(item, data, digest, live)


def process_content(
    content: _Content, *, validation: ValidationPolicy, chunking: ChunkPolicy
) -> tuple[ItemWrite, float, float | None]:
    """Decode, validate and process fetched content: the item's write, and the
    seconds spent validating and processing (None when it was not processed).
    Runs in a worker process too, so it never raises."""
    started = time.perf_counter()
    item = content.item
    try:
        fetched = _decode(item, content.data, content.digest)
        skip = _skip_content(fetched, validation)
        if skip is not None:
            return _skipped(item, content.digest, *skip), 0.0, None
        if fetched.text is None and not is_document(fetched.content_type):
            return _rejected(item, content.digest, [_undecodable_reason(fetched)]), 0.0, None
        verdict = validate(fetched, validation)
        validated = time.perf_counter()
        if not verdict.ok:
            errors = [str(issue) for issue in verdict.errors]
            return _rejected(item, content.digest, errors), validated - started, None
        processor = processor_for(fetched.content_type)
        document = processor.process(fetched, chunking)
    except ItemSkippedError as exc:
        return _skipped(item, content.digest, exc.code, exc.reason), 0.0, None
    except ProcessingError as exc:
        if exc.retryable:  # e.g. a document parse over its time bound: the next run retries
            return _failed(item, Stage.PROCESS.value, exc, retryable=True), 0.0, None
        # A code found while parsing (`encrypted`, `corrupt`...) names the rejection.
        code = exc.details.get("code", "processing")
        return _rejected(item, content.digest, [f"{code}: {exc.reason}"]), 0.0, None
    except Exception as exc:  # a bug must fail one item, not the batch
        return _failed(item, Stage.PROCESS.value, exc, retryable=False), 0.0, None
    _annotate(document, item, fetched, [str(w) for w in verdict.warnings])
    write = ItemWrite(
        uri=item.uri,
        outcome=Outcome.UPDATED if content.live else Outcome.NEW,
        fingerprint=item.fingerprint,
        content_hash=content.digest,
        document=document,
        processor=processor_id(processor),
    )
    return write, validated - started, time.perf_counter() - validated


def _decode(item: SourceItem, data: bytes, digest: str) -> FetchedContent:
    document_type = sniff_document_type(data, item.content_type)
    if document_type is not None:
        return FetchedContent(
            item=item, data=data, content_type=document_type, content_hash=digest, is_binary=True
        )
    decoded = decode_bytes(data)
    if decoded.text is None:
        content_type = BINARY if decoded.is_binary else (item.content_type or BINARY)
    else:
        content_type = sniff_content_type(decoded.text[:1024], item.content_type)
    return FetchedContent(
        item=item,
        data=data,
        content_type=content_type,
        content_hash=digest,
        text=decoded.text,
        encoding=decoded.encoding,
        is_binary=decoded.is_binary,
        metadata={"decode_problem": decoded.reason} if decoded.reason else {},
    )


def _from_web(item: SourceItem) -> bool:
    return item.uri.startswith(("http://", "https://"))


def _unsupported_type(item: SourceItem) -> tuple[str, str] | None:
    """(code, reason) when the item's type, known before reading it, is one no processor
    takes: a web page's Content-Type, or a file name that says image, archive, font..."""
    if _from_web(item):
        declared = item.content_type
        if declared is None or declared in GENERIC_TYPES or has_processor(declared):
            return None  # a generic type says nothing: the bytes are sniffed once read
        return UNSUPPORTED_CONTENT_TYPE, f"content type {declared} is not one this tool ingests"
    named = not_text_type(item.path or item.uri)
    if named is None or has_processor(named):
        return None
    return UNSUPPORTED_TYPE, f"{named} by its name: no processor for this type"


def _skip_content(content: FetchedContent, policy: ValidationPolicy) -> tuple[str, str] | None:
    """(code, reason) when read content is not for this tool: empty or blank, binary of
    no known type, or of a type no processor takes."""
    size = len(content.data)
    if not size:
        return EMPTY, "empty file (0 bytes)"
    if size < policy.min_size:
        return EMPTY, f"{size} bytes, less than the minimum of {policy.min_size}"
    if content.text is not None and _NOT_BLANK.search(content.text) is None:
        return EMPTY, f"whitespace only ({size} bytes)"
    binary = content.text is None and content.is_binary
    if binary and content.item.content_type is None and not is_document(content.content_type):
        # Its name claims no text type this tool reads: not invalid, just not text.
        return BINARY_CONTENT, "binary content of no type this tool reads"
    if content.text is not None and not has_processor(content.content_type):
        code = UNSUPPORTED_CONTENT_TYPE if _from_web(content.item) else UNSUPPORTED_TYPE
        return code, f"no processor for content type {content.content_type}"
    return None


def _undecodable_reason(content: FetchedContent) -> str:
    if content.is_binary:
        named = content.item.content_type or "unknown"
        return f"binary: binary content, not text (named as {named})"
    return f"undecodable: {content.metadata.get('decode_problem', 'no text encoding fits')}"


def _annotate(
    document: ProcessedDocument, item: SourceItem, content: FetchedContent, warnings: list[str]
) -> None:
    document.metadata.setdefault("path", item.path)
    document.metadata.setdefault("size", len(content.data))
    document.metadata.setdefault("encoding", content.encoding)
    if warnings:
        document.metadata["warnings"] = [*document.metadata.get("warnings", []), *warnings]


def _unchanged(item: SourceItem, digest: str | None) -> ItemWrite:
    return ItemWrite(
        uri=item.uri, outcome=Outcome.UNCHANGED, fingerprint=item.fingerprint, content_hash=digest
    )


def _rejected(item: SourceItem, digest: str | None, errors: list[str]) -> ItemWrite:
    return ItemWrite(
        uri=item.uri,
        outcome=Outcome.REJECTED,
        fingerprint=item.fingerprint,
        content_hash=digest,
        errors=errors,
    )


def _skipped(item: SourceItem, digest: str | None, code: str, reason: str) -> ItemWrite:
    return ItemWrite(
        uri=item.uri,
        outcome=Outcome.SKIPPED,
        fingerprint=item.fingerprint,
        content_hash=digest,
        errors=[Skip(uri=item.uri, code=code, reason=reason).entry()],
    )


def _failed(item: SourceItem, stage: str, exc: BaseException, retryable: bool) -> ItemWrite:
    message = exc.reason if isinstance(exc, IngestError) else f"{type(exc).__name__}: {exc}"
    failure = Failure(
        uri=item.uri,
        stage=stage,
        error_type=exc.error_type if isinstance(exc, IngestError) else type(exc).__name__,
        message=message,
        retryable=retryable,
    )
    return ItemWrite(uri=item.uri, outcome=Outcome.FAILED, failure=failure)


def _with_links(write: ItemWrite, item: SourceItem) -> ItemWrite:
    """The links a crawl found on a page go to the store with its state (not when the
    item failed: its stored state, links included, stays as it was)."""
    if item.links is None or write.outcome is Outcome.FAILED:
        return write
    return write.model_copy(update={"links": list(item.links)})


def _item_result(write: ItemWrite) -> ItemResult:
    rejection = (
        Rejection(uri=write.uri, errors=write.errors) if write.outcome is Outcome.REJECTED else None
    )
    skip = (
        Skip.from_entry(write.uri, write.errors[0])
        if write.outcome is Outcome.SKIPPED and write.errors
        else None
    )
    return ItemResult(
        uri=write.uri, outcome=write.outcome, failure=write.failure, rejection=rejection, skip=skip
    )
