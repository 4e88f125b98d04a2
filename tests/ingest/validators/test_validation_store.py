"""Rejected items in the store: every reason is kept, an unchanged rejected file is not
validated again on a later run, and a changed one is (no Prefect: `run_batch` and SQLite)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import ingest.pipeline
from ingest.models import BatchResult, FetchedContent, Outcome, ValidationResult
from ingest.pipeline import BatchConfig, BatchContext, run_batch
from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig
from ingest.store import open_store
from ingest.store.sql import SqlStore
from ingest.validators import ValidationPolicy

SCHEMA = {
    "type": "object",
    "required": ["id", "tags"],
    "properties": {
        "id": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "ok.json").write_text('{"id": 1, "tags": ["a"]}')
    (root / "two-errors.json").write_text('{"id": "one", "tags": ["a", 2]}')
    (root / "broken.json").write_text('{"id": 1,')
    return root


@pytest.fixture
def policy(tmp_path: Path) -> ValidationPolicy:
    schema = tmp_path / "item.schema.json"
    schema.write_text(json.dumps(SCHEMA))
    return ValidationPolicy(schemas={"*.json": str(schema)})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    with open_store(str(tmp_path / "store.db")) as opened:
        yield opened  # type: ignore[misc]


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the items validated, in order."""
    seen: list[str] = []
    real = ingest.pipeline.validate

    def spy(content: FetchedContent, policy: ValidationPolicy | None = None) -> ValidationResult:
        seen.append(content.item.path or content.item.uri)
        return real(content, policy)

    monkeypatch.setattr(ingest.pipeline, "validate", spy)
    return seen


def _run(folder: Path, store: SqlStore, policy: ValidationPolicy) -> BatchResult:
    """One run: a new job over the whole folder, finished like a flow finishes it."""
    source = FilesystemSource(FilesystemSourceConfig(root=folder))
    job_id = store.begin_job(source.source_id, "job")
    result = run_batch(
        [i for page in source.discover(100) for i in page],
        BatchContext(
            source=source,
            store=store,
            config=BatchConfig(job_id=job_id, run_id=f"run-{time.time_ns()}", validation=policy),
        ),
    )
    store.finish_job(job_id)
    return result


def _outcomes(store: SqlStore, folder: Path) -> dict[str, Outcome]:
    """The outcome the last run recorded for each file."""
    source_id = FilesystemSource(FilesystemSourceConfig(root=folder)).source_id
    states = store.lookup(source_id, [path.as_uri() for path in folder.iterdir()])
    return {uri.rsplit("/", 1)[-1]: state.outcome for uri, state in states.items()}


def _stored_errors(store: SqlStore, folder: Path, name: str) -> list[str]:
    source_id = FilesystemSource(FilesystemSourceConfig(root=folder)).source_id
    uri = (folder / name).as_uri()
    return store.lookup(source_id, [uri])[uri].errors


def _rewrite(path: Path, text: str) -> None:
    path.write_text(text)
    later = time.time_ns() + 5_000_000_000
    os.utime(path, ns=(later, later))


def test_every_reason_is_stored_and_unchanged_rejections_are_not_validated_again(
    folder: Path, store: SqlStore, policy: ValidationPolicy, validated: list[str]
) -> None:
    first = _run(folder, store, policy)
    assert (first.counts.new, first.counts.rejected) == (1, 2)
    assert _outcomes(store, folder) == {
        "ok.json": Outcome.NEW,
        "two-errors.json": Outcome.REJECTED,
        "broken.json": Outcome.REJECTED,
    }
    assert _stored_errors(store, folder, "two-errors.json") == [
        "schema at /id: 'one' is not of type 'integer'",
        "schema at /tags/1: 2 is not of type 'string'",
    ]
    [broken] = _stored_errors(store, folder, "broken.json")
    assert broken.startswith("invalid-json at line 1, column 10: ")
    assert sorted(validated) == ["broken.json", "ok.json", "two-errors.json"]

    validated.clear()
    second = _run(folder, store, policy)
    assert second.counts.unchanged == 3
    assert set(_outcomes(store, folder).values()) == {Outcome.UNCHANGED}
    assert validated == [], "unchanged content is not validated again"
    assert len(_stored_errors(store, folder, "two-errors.json")) == 2, "the reasons stay"

    _rewrite(folder / "two-errors.json", '{"id": 2, "tags": ["fixed"]}')
    _rewrite(folder / "broken.json", '{"id": 3, "tags": "not a list"}')
    third = _run(folder, store, policy)
    assert (third.counts.updated, third.counts.rejected, third.counts.unchanged) == (1, 1, 1)
    assert sorted(validated) == ["broken.json", "two-errors.json"]
    assert _outcomes(store, folder) == {
        "ok.json": Outcome.UNCHANGED,
        "two-errors.json": Outcome.UPDATED,
        "broken.json": Outcome.REJECTED,
    }
    assert _stored_errors(store, folder, "two-errors.json") == []
    assert _stored_errors(store, folder, "broken.json") == [
        "schema at /tags: 'not a list' is not of type 'array'"
    ]


def test_a_touched_rejected_file_with_the_same_content_is_not_validated_again(
    folder: Path, store: SqlStore, policy: ValidationPolicy, validated: list[str]
) -> None:
    _run(folder, store, policy)
    validated.clear()
    _rewrite(folder / "broken.json", (folder / "broken.json").read_text())
    result = _run(folder, store, policy)
    assert result.counts.unchanged == 3
    assert _outcomes(store, folder)["broken.json"] is Outcome.UNCHANGED
    assert validated == []
    assert _stored_errors(store, folder, "broken.json")
