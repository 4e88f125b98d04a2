"""The `skipped` outcome through the real `ingest fs` command and the flow in the Prefect
harness: counts and reasons in the report and the summary, `--max-rejected-share` counting
only rejections, and a second run that reads none of the skipped files."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from tests.cli.test_cli import cli_env, ingest  # noqa: F401 - the fixture is used by name
from tests.flows.test_flow_filesystem import run_flow
from tests.support.repository import png_bytes, typical_repository, write

pytestmark = pytest.mark.prefect


def _swap_keeping_fingerprint(path: Path, text: bytes) -> None:
    """New content of the same size and mtime: the fingerprint (size + mtime) does not
    change, so only a run that reads the file can notice."""
    stat = path.stat()
    assert len(text) == stat.st_size
    path.write_bytes(text)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _names(entries: list[dict[str, Any]]) -> dict[str, str]:
    return {entry["uri"].rsplit("/", 1)[-1]: entry["code"] for entry in entries}


def test_ingest_fs_on_a_typical_repository_then_again_reads_no_skipped_file(
    cli_env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo"
    expected = typical_repository(root)
    store = str(tmp_path / "store.db")
    args = ("fs", str(root), "--store", store, "--max-file-size", "64KB", "--json")

    first = ingest(*args, env=cli_env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    report = json.loads(first.stdout)
    assert report["state"] == "Completed"
    counts = report["counts"]
    assert (counts["discovered"], counts["new"], counts["skipped"], counts["rejected"]) == (
        16,
        4,
        9,
        3,
    )
    assert {e["uri"].removeprefix(root.as_uri() + "/"): e["code"] for e in report["skipped"]} == {
        rel: code for rel, (outcome, code) in expected.items() if outcome == "skipped"
    }
    assert all(set(e) == {"uri", "code", "reason"} and e["reason"] for e in report["skipped"])
    assert set(_names(report["skipped"]).values()) == {
        "empty",
        "unsupported-type",
        "binary",
        "too-large",
    }
    assert {e["uri"].rsplit("/", 1)[-1] for e in report["rejected"]} == {
        "broken.json",
        "screenshot.md",
        "bad-utf8.txt",
    }

    status = ingest("status", report["run_id"], "--json", env=cli_env, cwd=tmp_path)
    assert status.returncode == 0, status.stderr[-3000:]
    shown = json.loads(status.stdout)
    assert shown["counts"]["skipped"] == 9
    assert shown["skipped_by_reason"] == {
        "unsupported-type": 4,
        "empty": 3,
        "binary": 1,
        "too-large": 1,
    }
    human = ingest("status", report["run_id"], env=cli_env, cwd=tmp_path)
    assert "skipped 9" in human.stdout
    assert "skipped by reason: unsupported-type 4, empty 3, binary 1, too-large 1" in human.stdout
    listed = ingest("runs", "--json", env=cli_env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr[-3000:]
    [row] = [row for row in json.loads(listed.stdout) if row["id"] == report["run_id"]]
    assert "new 4, skipped 9, rejected 3" in row["message"]

    # Files read once and skipped get other bytes of the same size and mtime: a run that
    # read them again would ingest them as new documents.
    _swap_keeping_fingerprint(root / "data" / "blob", b"# Now text\n".ljust(2048, b"x"))
    _swap_keeping_fingerprint(root / "src" / "tool" / "blank.py", b"x = 12\n")
    _swap_keeping_fingerprint(
        root / "docs" / "img" / "logo.png", b"# Text\n".ljust(len(png_bytes(1)), b"y")
    )
    second = ingest(*args, env=cli_env, cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    again = json.loads(second.stdout)
    assert again["counts"]["unchanged"] == 16
    assert again["counts"]["new"] == again["counts"]["updated"] == 0
    assert again["skipped"] == []
    fetched = again["phases"].get("fetch", {"items": 0})["items"]
    assert fetched == 0, "the second run fetched files it had skipped"

    exported = tmp_path / "export.jsonl"
    done = ingest(
        "export",
        "--format",
        "jsonl",
        "--out",
        str(exported),
        "--store",
        store,
        env=cli_env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    uris = {json.loads(line)["uri"] for line in exported.read_text().splitlines()}
    assert uris == {(root / rel).as_uri() for rel, (o, _) in expected.items() if o == "new"}


def test_human_summary_counts_skipped_by_reason_and_lists_only_problems(
    cli_env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo"
    typical_repository(root)
    run = ingest(
        "fs",
        str(root),
        "--store",
        str(tmp_path / "s.db"),
        "--max-file-size",
        "64KB",
        env={**cli_env, "COLUMNS": "300"},  # one line per message, however long its path
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    assert "skipped (not ingested by policy or type): unsupported-type 4, empty 3, " in out
    assert "binary 1" in out
    assert "too-large 1" in out
    for name in ("logo.png", "diagram.svg", "__init__.py", "huge.md", "blob"):
        assert name not in out, f"{name} is listed one by one"
    assert "rejected" in out
    assert "broken.json" in out
    assert "screenshot.md" in out


def _repository(root: Path, *, images: int, empty: int, json_ok: int, json_bad: int) -> int:
    for n in range(images):
        write(root, f"assets/img{n:03}.png", png_bytes(n))
    for n in range(empty):
        write(root, f"pkg{n:03}/__init__.py", "")
    for n in range(json_ok):
        write(root, f"data/ok{n:03}.json", json.dumps({"n": n, "name": f"item {n}"}))
    for n in range(json_bad):
        write(root, f"data/bad{n:03}.json", '{"n": ' + str(n) + ", }")
    return images + empty + json_ok + json_bad


def test_max_rejected_share_counts_rejections_only(
    prefect_api: str, isolated_results: Path, tmp_path: Path
) -> None:
    from ingest.errors import TooManyRejectedError

    clean = tmp_path / "clean"
    # 20% images, 5% empty files: nothing wrong, well over 10% not ingested.
    total = _repository(clean, images=20, empty=5, json_ok=75, json_bad=0)
    state, report = run_flow(clean, tmp_path / "clean.db", max_rejected_share=0.1)
    assert state.is_completed(), state.message
    counts = report["counts"]
    assert (counts["discovered"], counts["skipped"], counts["rejected"]) == (total, 25, 0)
    assert counts["new"] == 75
    assert {s["code"] for s in report["skipped"]} == {"unsupported-type", "empty"}

    asyncio.run(_assert_summary_counts_skipped(state.state_details.flow_run_id))

    broken = tmp_path / "broken"
    # The same share of images and empty files, and 15% of the JSON files malformed:
    # 12 of 105 items (11.4%) are rejected.
    total = _repository(broken, images=20, empty=5, json_ok=68, json_bad=12)
    state = _flow_state(broken, tmp_path / "broken.db", max_rejected_share=0.1)
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, TooManyRejectedError)
    assert (error.report.counts.rejected, error.report.counts.skipped) == (12, 25)
    assert error.report.counts.discovered == total
    assert "12 of 105 item(s) rejected" in state.message


async def _assert_summary_counts_skipped(flow_run_id: UUID) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        artifacts = await client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    summary = {str(a.key): a for a in artifacts}["ingest-filesystem-summary"].data
    assert "| skipped | 25 |" in summary
    assert "## Skipped (25)" in summary
    assert "| unsupported-type | 20 |" in summary
    assert "| empty | 5 |" in summary
    assert "img000.png" not in summary, "skipped items are counted, not listed"


def _flow_state(folder: Path, store: Path, **options: Any) -> Any:
    from flows.filesystem import ingest_filesystem
    from flows.params import FolderSource, RunOptions

    return ingest_filesystem(
        source=FolderSource(path=str(folder)),
        options=RunOptions(store=str(store), **options),
        return_state=True,
    )


def test_sample_corpus_through_the_flow_skips_two_and_rejects_six(
    prefect_api: str, isolated_results: Path, tmp_path: Path
) -> None:
    from tests.support.paths import SAMPLES

    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLES, corpus, symlinks=True)
    state, report = run_flow(corpus, tmp_path / "store.db", max_rejected_share=0.2)
    assert state.is_completed()
    counts = report["counts"]
    assert (counts["discovered"], counts["new"], counts["skipped"], counts["rejected"]) == (
        54,
        46,
        2,
        6,
    )
    assert _names(report["skipped"]) == {
        "empty.txt": "empty",
        "scanned-invoice.pdf": "no-text-layer",
    }
