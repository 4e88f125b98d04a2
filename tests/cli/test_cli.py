"""The `ingest` command line as users run it: a real process, a real store file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.support.paths import SAMPLES

EXPORT_KEYS = {
    "id",
    "source",
    "uri",
    "content_type",
    "content_hash",
    "title",
    "text",
    "metadata",
    "chunks",
    "run_id",
    "updated_at",
}
REPORT_KEYS = {
    "run_id",
    "flow",
    "state",
    "counts",
    "failures",
    "rejected",
    "skipped",
    "duration_s",
    "phases",
    "notes",
}
COUNT_KEYS = {
    "discovered",
    "new",
    "updated",
    "unchanged",
    "skipped",
    "rejected",
    "failed",
    "deleted",
}


def ingest(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


@pytest.fixture
def cli_env(prefect_api: str, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PREFECT_API_URL=prefect_api,
        INGEST_HOME=str(tmp_path / "home"),
        INGEST_RESULTS_DIR=str(tmp_path / "results"),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    env.pop("INGEST_STORE", None)
    return env


@pytest.mark.prefect
def test_sample_corpus_json_report_and_exports(cli_env: dict[str, str], tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    run = ingest("fs", str(SAMPLES), "--store", str(store), "--json", env=cli_env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)  # stdout holds the JSON report and nothing else
    assert set(report) == REPORT_KEYS
    assert set(report["counts"]) == COUNT_KEYS
    assert report["state"] == "Completed"
    counts = report["counts"]
    assert counts["failed"] == 0
    assert (counts["discovered"], counts["new"], counts["skipped"], counts["rejected"]) == (
        54,
        46,
        2,
        6,
    )
    assert {r["uri"].rsplit("/", 1)[-1] for r in report["rejected"]} == {
        "notes.md",
        "broken.json",
        "invalid-utf8.txt",
        "orders-export.json",
        "catalog-malformed.xml",
        "salaries-encrypted.pdf",
    }
    empty, scanned = sorted(report["skipped"], key=lambda s: s["uri"])
    assert empty["uri"].endswith("/bad/empty.txt")
    assert (empty["code"], empty["reason"]) == ("empty", "empty file (0 bytes)")
    assert scanned["uri"].endswith("/documents/scanned-invoice.pdf")
    assert scanned["code"] == "no-text-layer"
    assert "2 page(s)" in scanned["reason"]
    for rejection in report["rejected"]:
        assert rejection["errors"]
        assert all(isinstance(e, str) and e for e in rejection["errors"])

    out = tmp_path / "export.jsonl"
    exported = ingest(
        "export",
        "--format",
        "jsonl",
        "--out",
        str(out),
        "--store",
        str(store),
        env=cli_env,
        cwd=tmp_path,
    )
    assert exported.returncode == 0, exported.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == counts["new"]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        assert set(record) == EXPORT_KEYS
        assert record["run_id"] == report["run_id"]
        by_type.setdefault(record["content_type"], []).append(record)
        for seq, chunk in enumerate(record["chunks"]):
            assert set(chunk) == {"seq", "text", "metadata"}
            assert chunk["seq"] == seq
    for content_type in ("text/plain", "text/markdown", "text/x-python"):
        assert by_type[content_type], content_type
        assert all(
            r["chunks"] and all(c["text"].strip() for c in r["chunks"])
            for r in by_type[content_type]
        )
    python = by_type["text/x-python"][0]["chunks"]
    assert any(c["metadata"].get("symbol") for c in python)
    markdown = [c for r in by_type["text/markdown"] for c in r["chunks"]]
    assert any(c["metadata"].get("heading_path") for c in markdown)

    parquet = tmp_path / "export.parquet"
    assert (
        ingest(
            "export",
            "--format",
            "parquet",
            "--out",
            str(parquet),
            "--store",
            str(store),
            env=cli_env,
            cwd=tmp_path,
        ).returncode
        == 0
    )
    import pyarrow.parquet as pq

    table = pq.read_table(parquet)
    assert table.num_rows == len(records)
    assert EXPORT_KEYS <= set(table.column_names)

    checked = ingest("check", "--store", str(store), env=cli_env, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr

    again = ingest("fs", str(SAMPLES), "--store", str(store), env=cli_env, cwd=tmp_path)
    assert again.returncode == 0
    assert "unchanged" in again.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fs", "/no/such/folder"], "no such folder"),
        (["fs", "{file}"], "not a folder"),
        (["fs", "{folder}", "--max-file-size", "lots"], "invalid size"),
        (["fs", "{folder}", "--batch-size", "0"], "batch_size"),
        (["fs", "{folder}", "--schema", "nonsense"], "GLOB=SCHEMA_FILE"),
        (["fs", "{folder}", "--schema", "*.json=/no/such/schema.json"], "schema"),
        (["fs", "{folder}", "--store", "ftp://example.invalid/x"], "store"),
    ],
)
def test_bad_usage_is_exit_2_before_any_work(args: list[str], message: str, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n")
    file = folder / "a.md"
    home = tmp_path / "home"
    env = dict(os.environ, INGEST_HOME=str(home), PREFECT_API_URL="http://127.0.0.1:9/api")
    argv = [a.format(file=file, folder=folder) for a in args]
    run = ingest(*argv, env=env, cwd=tmp_path)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert run.stdout == ""
    assert not home.exists(), "nothing may be written on bad usage"


@pytest.mark.prefect
def test_failed_items_exit_1_and_report_them(
    prefect_api: str, isolated_results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli import (
        app,
        commands,  # noqa: F401  (registers the commands)
    )
    from ingest.errors import SourceAccessError
    from ingest.sources.filesystem import FilesystemSource

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.md").write_text("# Good\n\nFine.\n")
    (folder / "flaky.md").write_text("# Flaky\n\nRead fails.\n")
    real_fetch = FilesystemSource.fetch

    def failing_fetch(source: Any, item: Any) -> bytes:
        if item.path == "flaky.md":
            raise SourceAccessError("read failed: Input/output error", uri=item.uri, retryable=True)
        return real_fetch(source, item)

    monkeypatch.setattr(FilesystemSource, "fetch", failing_fetch)
    result = CliRunner().invoke(
        app, ["fs", str(folder), "--store", str(tmp_path / "s.db"), "--json"]
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["state"] == "Failed"
    assert report["counts"]["new"] == 1
    assert report["counts"]["failed"] == 1
    [failure] = report["failures"]
    assert failure["uri"].endswith("flaky.md")
    assert failure["stage"] == "fetch"
    assert failure["retryable"] is True
    assert "Input/output error" in failure["message"]
