"""`ingest fs` / `ingest web` in a child process: the delete guard refuses to empty a
source (an empty mount point) and changes nothing; `--max-delete-share 1` then deletes.
A page that exceeds `--timeout` or `--read-timeout` fails with the limit and the attempts
in its reason."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import start_ingest
from tests.support.web_testsite import SiteState

pytestmark = pytest.mark.prefect


@pytest.fixture
def env(prefect_api: str, tmp_path: Path) -> dict[str, str]:
    values = dict(
        os.environ,
        PREFECT_API_URL=prefect_api,
        INGEST_HOME=str(tmp_path / "home"),
        INGEST_RESULTS_DIR=str(tmp_path / "results"),
    )
    values.pop("INGEST_STORE", None)
    return values


def ingest(*args: str, env: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    run = start_ingest(*args, "--json", env=env)
    out, err = run.communicate(timeout=300)
    return run.returncode, json.loads(out) if out.strip() else {}, err


def store_rows(store: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(store) as db:
        return {
            table: sorted(db.execute(f"SELECT * FROM {table}"))  # noqa: S608 - fixed names
            for table in ("items", "documents", "chunks", "crawl_links")
        }


def test_an_empty_mount_point_is_refused_by_the_delete_guard(
    env: dict[str, str], tmp_path: Path
) -> None:
    mount = tmp_path / "mount"
    mount.mkdir()
    for n in range(4):
        (mount / f"note-{n}.md").write_text(f"# Note {n}\n\nSome text of note {n}.\n")
    store = tmp_path / "store.db"
    code, report, err = ingest("fs", str(mount), "--store", str(store), env=env)
    assert code == 0, err
    assert report["counts"]["new"] == 4

    before = store_rows(store)
    for path in mount.iterdir():
        path.unlink()  # the mount comes up empty
    code, report, err = ingest("fs", str(mount), "--store", str(store), env=env)
    assert code == 1, err
    assert report["state"] == "Failed"
    assert report["counts"]["deleted"] == 0
    message = " ".join(err.split())
    assert "refused to mark 4 of 4 live item(s) deleted (100.0% of the source)" in message
    assert "maximum delete share of 50%" in message
    assert "--max-delete-share 1" in message
    assert any("--max-delete-share 1" in note for note in report["notes"])
    assert store_rows(store) == before
    code, status, err = ingest("status", report["run_id"], "--store", str(store), env=env)
    assert code == 0, err
    assert status["report_state"] == "Failed"
    assert "--max-delete-share 1" in status["message"]
    assert status["notes"] == report["notes"]

    code, report, err = ingest(
        "fs", str(mount), "--store", str(store), "--max-delete-share", "1", env=env
    )
    assert code == 0, err
    assert report["counts"]["deleted"] == 4
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT count(*) FROM documents WHERE deleted = 0").fetchone() == (0,)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--timeout", "0.4"], ["request deadline exceeded (0.4 s per attempt, --timeout)"]),
        (["--read-timeout", "0.3"], ["read timeout (no data for 0.3 s, --read-timeout)"]),
    ],
)
def test_a_page_over_the_timeout_fails_with_the_limit_and_the_attempts(
    env: dict[str, str], site: SiteState, tmp_path: Path, options: list[str], words: list[str]
) -> None:
    store = tmp_path / "web.db"
    code, report, err = ingest(
        "web", f"{site.base}/hang", "--max-depth", "0", "--allow-private-network",
        "--store", str(store), *options,
        env=env,
    )  # fmt: skip
    assert code == 1, err
    assert report["counts"]["failed"] == 1
    (failure,) = report["failures"]
    assert failure["uri"] == f"{site.base}/hang"
    for word in [*words, "gave up after 4 attempt(s)"]:
        assert word in failure["message"], failure
    assert site.paths().count("/hang") == 4
