"""The folder flow on a PostgreSQL store: two `ingest fs` processes (two flow runs in
one Prefect API, as on two machines) ingesting the same folder at the same time end
with each document once, a consistent store and a next run that finds everything
unchanged; the store URL's password appears in no output, report, log or error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url

from ingest.models import Outcome
from ingest.store import open_store
from tests.flows.test_flow_filesystem import write_files
from tests.support.paths import REPO_ROOT, SAMPLES
from tests.support.postgres import fresh_postgres_url, server_url

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


@pytest.fixture(scope="session")
def postgres_server() -> None:
    """Skip (or fail) before the Prefect harness starts when there is no server."""
    server_url()


@pytest.fixture
def pg_url(postgres_server: None) -> Iterator[str]:
    yield from fresh_postgres_url()


def _env(prefect_api: str, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PREFECT_API_URL=prefect_api,
        INGEST_HOME=str(home),
        INGEST_RESULTS_DIR=str(home / "results"),  # one per process: no shared results
        PYTHONPATH=str(REPO_ROOT),
    )
    env.pop("INGEST_STORE", None)
    env.pop("PGPASSWORD", None)
    return env


def _start(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    )


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=240)
    return process.returncode, stdout, stderr


def test_two_concurrent_runs_store_each_document_once(
    postgres_server: None, prefect_api: str, tmp_path: Path, pg_url: str
) -> None:
    password = str(make_url(pg_url).password)
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLES, corpus, symlinks=True)
    write_files(corpus / "generated", 60)
    args = ("fs", str(corpus), "--store", pg_url, "--batch-size", "8", "--json", "-v")

    runs = [
        _start(*args, env=_env(prefect_api, tmp_path / name), cwd=tmp_path)
        for name in ("first", "second")
    ]
    results = [_finish(run) for run in runs]

    reports = []
    for code, stdout, stderr in results:
        assert code == 0, stderr[-3000:]
        assert password not in stdout
        assert password not in stderr  # -v: every Prefect and ingest log line
        reports.append(json.loads(stdout))
    assert reports[0]["run_id"] != reports[1]["run_id"]
    discovered = reports[0]["counts"]["discovered"]
    for report in reports:
        counts = report["counts"]
        assert report["state"] == "Completed"
        assert counts["discovered"] == discovered
        assert counts["failed"] == 0
        assert counts["deleted"] == 0
        outcomes = ("new", "updated", "unchanged", "skipped", "rejected")
        assert sum(counts[k] for k in outcomes) == discovered

    with open_store(pg_url) as store:
        records = list(store.iter_export())
        assert store.check() == []
        items = list(store.iter_items(f"fs:{corpus}"))
        stored_runs = {r.report.run_id for r in store.latest_runs(10)}
    # Both runs share the job: an item one run rejected, the other may count unchanged,
    # so the rejections are read from the store (the samples hold 5 bad files and an
    # encrypted PDF, rejected, and an empty file and a scanned PDF, skipped).
    rejected = [item for item in items if item.outcome is Outcome.REJECTED]
    skipped = [item for item in items if item.outcome is Outcome.SKIPPED]
    assert (len(rejected), len(skipped)) == (6, 2)
    assert all(report["counts"]["rejected"] <= 6 for report in reports)
    assert len(records) == discovered - len(rejected) - len(skipped)
    assert len({(r.source, r.uri) for r in records}) == len(records)
    assert len(items) == discovered
    assert not any(item.deleted for item in items)
    for record in records:
        assert [c.seq for c in record.chunks] == list(range(len(record.chunks)))
    assert stored_runs == {reports[0]["run_id"], reports[1]["run_id"]}

    env = _env(prefect_api, tmp_path / "third")
    code, stdout, stderr = _finish(_start(*args, env=env, cwd=tmp_path))
    assert code == 0, stderr[-3000:]
    counts = json.loads(stdout)["counts"]
    assert counts["unchanged"] == discovered
    assert counts["new"] == counts["updated"] == counts["deleted"] == 0

    code, stdout, stderr = _finish(_start("check", "--store", pg_url, env=env, cwd=tmp_path))
    assert code == 0, stdout + stderr
    assert password not in stdout + stderr


def test_unreachable_store_error_hides_the_password(
    postgres_server: None, prefect_api: str, tmp_path: Path, pg_url: str
) -> None:
    password = str(make_url(pg_url).password)
    wrong = make_url(pg_url).set(password=password[::-1] + "x")
    bad_url = wrong.render_as_string(hide_password=False)
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.md").write_text("# A\n\ntext\n")
    env = _env(prefect_api, tmp_path / "home")
    for args in (
        ("fs", str(tmp_path / "corpus"), "--store", bad_url, "--json", "-v"),
        ("check", "--store", bad_url),
        ("export", "--format", "jsonl", "--out", str(tmp_path / "o.jsonl"), "--store", bad_url),
    ):
        code, stdout, stderr = _finish(_start(*args, env=env, cwd=tmp_path))
        assert code != 0
        assert "password authentication failed" in stdout + stderr
        assert str(wrong.password) not in stdout + stderr
        assert password not in stdout + stderr
