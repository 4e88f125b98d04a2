"""Output paths where nothing can be written (`ingest export --out`, a run's SQLite
store): one line naming the path and the reason, exit 2, and nothing left behind (the
CLI as a user runs it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.store import open_store
from tests.support.paths import REPO_ROOT


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, with its data folder under `tmp_path`."""
    environment = dict(
        os.environ, INGEST_HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO_ROOT), **env
    )
    return subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *args],
        env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def _export(out: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Export an existing (empty) store to `out`."""
    store = tmp_path / "stores" / "ingest.db"
    store.parent.mkdir(exist_ok=True)
    open_store(str(store)).close()
    return _cli(tmp_path, "export", "--out", str(out), "--store", str(store), *extra)


def _unwritable_folder(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    if Path("/sys").is_dir():
        return Path("/sys")  # read-only even for root
    pytest.skip("no folder this user cannot write")


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
@pytest.mark.parametrize("case", ["under-a-file", "a-folder", "unwritable-folder"])
def test_unwritable_output_is_one_line_exit_2_and_nothing_written(
    tmp_path: Path, case: str, fmt: str
) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder\n")
    if case == "under-a-file":
        out, reason = blocker / "sub" / f"out.{fmt}", f"{blocker} is a file, not a folder"
    elif case == "a-folder":
        out, reason = tmp_path, "it is a folder"
    else:
        out, reason = _unwritable_folder(tmp_path) / f"out.{fmt}", "Permission denied"
    before = sorted(p.name for p in out.parent.iterdir()) if out.parent.is_dir() else None
    run = _export(out, tmp_path, "--format", fmt)
    assert run.returncode == 2, (run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert lines == [f"error: cannot write {out}: {reason}"]
    assert "Traceback" not in run.stderr
    assert blocker.read_text() == "a file, not a folder\n"
    if before is not None:
        assert sorted(p.name for p in out.parent.iterdir()) == before


@pytest.mark.parametrize(
    "command",
    [
        ["fs", str(REPO_ROOT / "samples" / "corpus")],
        ["web", "http://127.0.0.1:9/", "--allow-private-network"],
    ],
    ids=["fs", "web"],
)
def test_a_store_that_cannot_be_written_is_exit_2_before_any_work(
    tmp_path: Path, command: list[str]
) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder\n")
    store = blocker / "ingest.db"
    # PREFECT_API_URL: a dead address, reached only if the check came late.
    run = _cli(tmp_path, *command, "--store", str(store), PREFECT_API_URL="http://127.0.0.1:9/api")
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert run.stderr.strip().splitlines() == [
        f"error: cannot write the store {store}: {blocker} is a file, not a folder"
    ]
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize(
    "command",
    [["check"], ["export", "--out", "out.jsonl"]],
    ids=["check", "export"],
)
def test_a_store_argument_under_a_file_is_a_usage_error(tmp_path: Path, command: list[str]) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder\n")
    store = blocker / "ingest.db"
    run = _cli(tmp_path, *command, "--store", str(store))
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert run.stderr.strip().splitlines() == [
        f"error: cannot write the store {store}: {blocker} is a file, not a folder"
    ]
    assert blocker.read_text() == "a file, not a folder\n"
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(
    "command",
    [["check"], ["export", "--out", "out.jsonl"]],
    ids=["check", "export"],
)
def test_a_missing_store_is_said_and_not_created(tmp_path: Path, command: list[str]) -> None:
    store = tmp_path / "typo" / "ingest.db"
    run = _cli(tmp_path, *command, "--store", str(store))
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert run.stderr.strip().splitlines() == [
        f"error: no store at {store}: nothing was ingested there yet "
        "(run `ingest fs` or `ingest web` first, or give --store)"
    ]
    assert not store.parent.exists()
    assert not (tmp_path / "out.jsonl").exists()
