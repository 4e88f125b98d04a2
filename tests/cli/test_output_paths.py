"""Output paths where nothing can be written (`ingest export --out`, a run's SQLite
store): one line naming the path and the reason, exit 2, and nothing left behind (the
CLI as a user runs it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


def _export(out: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, INGEST_HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO_ROOT))
    return subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", "export", "--out",
         str(out), *extra],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


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
    env = dict(
        os.environ,
        INGEST_HOME=str(tmp_path / "home"),
        PYTHONPATH=str(REPO_ROOT),
        PREFECT_API_URL="http://127.0.0.1:9/api",  # reached only if the check were late
    )
    run = subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *command,
         "--store", str(store)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert run.stderr.strip().splitlines() == [
        f"error: cannot write the store {store}: {blocker} is a file, not a folder"
    ]
    assert not (tmp_path / "home").exists()
