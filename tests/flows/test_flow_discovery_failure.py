"""A run whose discovery breaks off never tombstones anything; the next complete
run does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.flows.test_flow_filesystem import run_flow, write_files

pytestmark = pytest.mark.prefect


def test_interrupted_discovery_marks_nothing_deleted(
    prefect_api: str, isolated_results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.filesystem import ingest_filesystem
    from flows.params import FolderSource, RunOptions
    from ingest.errors import SourceAccessError
    from ingest.sources.filesystem import FilesystemSource
    from ingest.store import open_store

    folder = tmp_path / "notes"
    write_files(folder, 30)
    store = tmp_path / "store.db"
    state, first = run_flow(folder, store, batch_size=10)
    assert first["counts"]["new"] == 30
    for gone in sorted(folder.rglob("*.md"))[:5]:
        gone.unlink()

    real_discover = FilesystemSource.discover

    def broken_discover(source: Any, batch_size: int) -> Iterator[list[Any]]:
        pages = real_discover(source, batch_size)
        yield next(pages)
        raise SourceAccessError("the disk went away", uri=folder.as_uri(), stage="discover")

    monkeypatch.setattr(FilesystemSource, "discover", broken_discover)
    broken = ingest_filesystem(
        source=FolderSource(path=str(folder)),
        options=RunOptions(store=str(store), batch_size=10),
        return_state=True,
    )
    assert broken.is_failed()
    with open_store(str(store)) as opened:
        assert sum(1 for record in opened.iter_export()) == 30, "nothing may be tombstoned"

    monkeypatch.setattr(FilesystemSource, "discover", real_discover)
    state, complete = run_flow(folder, store, batch_size=10)
    assert state.is_completed()
    assert complete["counts"]["deleted"] == 5
    assert complete["counts"]["unchanged"] == 25
