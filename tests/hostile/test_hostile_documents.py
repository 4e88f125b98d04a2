"""Every hostile document of the registry through ONE real `ingest fs` run (the CLI,
against the session's Prefect harness, with the parser bounds of `BOUNDS`), each item's
outcome asserted from the report and the store, the good documents stored beside them;
then time and memory per case measured through `run_batch` on the same files, the parser
child included in the memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
import pytest

from ingest.documents.limits import document_limits
from ingest.documents.sandbox import sandbox
from ingest.pipeline import BatchConfig, BatchContext, run_batch
from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig
from ingest.store import open_store
from ingest.validators import ValidationPolicy
from tests.hostile.cases import MB, CaseResult, Expect, WorkClock, record, summarise
from tests.hostile.documents import BOUNDS, DOCUMENT_CASES, GOOD, XXE_SECRET, build_documents

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


class TreeRssSampler(threading.Thread):
    """Peak growth in MB of the resident set of this process plus its children (the
    parser sandbox), sampled every 10 ms."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self._me = psutil.Process()
        self._base = self._total()
        self._peak = self._base
        self._done = threading.Event()

    def _total(self) -> int:
        total = self._me.memory_info().rss
        for child in self._me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return int(total)

    def run(self) -> None:
        while not self._done.wait(0.01):
            self._peak = max(self._peak, self._total())

    def stop(self) -> float:
        self._done.set()
        self.join()
        return float(self._peak - self._base) / MB


def _outcomes(report: dict[str, Any], documents: list[Any]) -> dict[str, list[tuple[str, str]]]:
    """uri -> every (outcome, detail) the report and the store hold for it. A skip is
    `skipped` in the report once that outcome exists; until then a rejection under the
    skip's code."""
    seen: dict[str, list[tuple[str, str]]] = {}
    for rejection in report["rejected"]:
        error = rejection["errors"][0]
        outcome = "skipped" if error.startswith("no-text-layer:") else "rejected"
        seen.setdefault(rejection["uri"], []).append((outcome, error))
    for entry in report.get("skipped", []) or []:
        if isinstance(entry, dict) and "uri" in entry:
            detail = f"{entry.get('code') or ''}: {entry.get('reason') or ''}"
            seen.setdefault(entry["uri"], []).append(("skipped", detail))
    for failure in report["failures"]:
        detail = f"{failure['error_type']}: {failure['message']}"
        seen.setdefault(failure["uri"], []).append(("failed", detail))
    for document in documents:
        seen.setdefault(document.uri, []).append(("new", ""))
    return seen


def _matches(expect: Expect, outcome: str, detail: str) -> bool:
    if outcome != expect.handling:
        return False
    return not expect.code or detail.startswith(expect.code)


@pytest.fixture(scope="module")
def documents_run(tmp_path_factory: pytest.TempPathFactory, prefect_api: str) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("hostile-documents")
    root = base / "root"
    made = build_documents(root)
    env = {
        **os.environ,
        **BOUNDS,
        "PREFECT_API_URL": prefect_api,
        "INGEST_RESULTS_DIR": str(base / "results"),
        "INGEST_HOME": str(base / "home"),
    }
    command = [sys.executable, "-c", "from cli import main; main()"]
    args = ["fs", str(root), "--store", str(base / "store.db"), "--batch-size", "4", "--json"]
    done = subprocess.run(  # noqa: S603 - our own CLI
        [*command, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    return {"root": root, "base": base, "made": made, "done": done}


def test_one_fs_run_ends_every_hostile_document_within_its_bounds(
    documents_run: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    done: subprocess.CompletedProcess[str] = documents_run["done"]
    root: Path = documents_run["root"]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode in (0, 1), (done.returncode, done.stderr[-3000:])
    report = json.loads(done.stdout)
    with open_store(str(documents_run["base"] / "store.db")) as store:
        assert store.check() == []
        documents = list(store.iter_export())
    seen = _outcomes(report, documents)
    for rel in GOOD:
        uri = (root / rel).as_uri()
        assert [o for o, _ in seen.get(uri, [])] == ["new"], (rel, seen.get(uri))
        stored = next(d for d in documents if d.uri == uri)
        assert stored.chunks, rel
    assert all(XXE_SECRET not in d.text for d in documents)
    assert XXE_SECRET not in done.stdout + done.stderr

    for name, value in BOUNDS.items():
        monkeypatch.setenv(name, value)
    document_limits.cache_clear()
    source = FilesystemSource(FilesystemSourceConfig(root=root))
    items = {item.uri: item for page in source.discover(100) for item in page}
    results: list[CaseResult] = []
    try:
        with open_store(str(documents_run["base"] / "measure.db")) as measure:
            for case in DOCUMENT_CASES:
                uris = [(root / rel).as_uri() for rel in documents_run["made"][case.name]]
                recorded = [seen.get(uri, []) for uri in uris]
                handled = all(len(r) == 1 and _matches(case.expect, *r[0]) for r in recorded)
                actual = "; ".join(f"{r[0][0]}: {r[0][1][:110] or 'stored'}" if r else "LOST"
                                   for r in recorded)  # fmt: skip
                ctx = BatchContext(
                    source=source,
                    store=measure,
                    config=BatchConfig(
                        job_id=measure.begin_job(source.source_id, "measure"),
                        run_id="measure",
                        validation=ValidationPolicy(),
                        full=True,
                    ),
                )
                sandbox().run("pdf", b"", document_limits())  # the child is up before measuring
                sampler = TreeRssSampler()
                sampler.start()
                clock = WorkClock().start()
                try:
                    run_batch([items[uri] for uri in uris], ctx)
                finally:
                    clock.stop()
                    peak = sampler.stop()
                results.append(
                    record(
                        case,
                        actual,
                        handled,
                        lost=sum(not r for r in recorded),
                        duplicated=sum(max(len(r) - 1, 0) for r in recorded),
                        seconds=round(clock.cpu, 3),
                        wall_seconds=round(clock.wall, 3),
                        peak_mb=round(peak, 1),
                    )
                )
    finally:
        document_limits.cache_clear()
    bad = [r for r in results if not r.ok]
    assert not bad, "\n".join(f"{r.name}: expected {r.expected}, got {r.actual} ({r})" for r in bad)
    totals = summarise(results)
    assert (totals.crashes, totals.lost, totals.duplicated, totals.leaked) == (0, 0, 0, 0)
