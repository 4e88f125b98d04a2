"""The `ingest-web` flow in the Prefect test harness against the local test site."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.support.web_helpers import config
from tests.support.web_testsite import SiteState, expected_pages

pytestmark = pytest.mark.prefect


def run_web(cfg: Any, store: Path, **options: Any) -> tuple[Any, dict[str, Any]]:
    from flows.params import RunOptions
    from flows.web import ingest_web
    from ingest.errors import ItemsFailedError

    async def main() -> Any:
        return await ingest_web(
            site=cfg, options=RunOptions(store=str(store), **options), return_state=True
        )

    state = asyncio.run(main())
    report = state.result(raise_on_failure=False)
    if isinstance(report, ItemsFailedError):
        report = report.report.model_dump(mode="json")
    assert isinstance(report, dict), report
    return state, report


def test_crawl_then_recrawl_unchanged(
    prefect_api: str, isolated_results: Path, site: SiteState, tmp_path: Path
) -> None:
    base = site.base
    cfg = config(
        [f"{base}/page/0.html", f"{base}/sitemap_index.xml"], max_depth=50, sorted_query=True
    )
    store = tmp_path / "web.db"
    state, first = run_web(cfg, store, batch_size=40)
    assert state.is_completed(), first
    expected = expected_pages(base)
    assert first["counts"]["discovered"] == len(expected)
    assert first["counts"]["new"] == len(expected)
    assert first["counts"]["failed"] == 0

    from ingest.store import open_store

    with open_store(str(store)) as opened:
        exported = {record.uri for record in opened.iter_export()}
        assert exported == expected
        assert opened.check() == []

    state, second = run_web(cfg, store, batch_size=40)
    assert state.is_completed(), second
    assert second["counts"]["unchanged"] == len(expected), second
    assert second["counts"]["new"] == second["counts"]["updated"] == 0
    assert second["counts"]["deleted"] == 0


def test_two_extraction_workers_store_what_one_process_stores(
    prefect_api: str, isolated_results: Path, site: SiteState, tmp_path: Path
) -> None:
    """`workers=2` moves decoding, validation and extraction to worker processes: the
    documents and chunks stored are the same as in one process."""
    from ingest.store import open_store

    cfg = config([f"{site.base}/page/0.html"], max_depth=50, sorted_query=True)
    stored: list[list[tuple[str, str, str, list[str]]]] = []
    for workers in (1, 2):
        store = tmp_path / f"web-{workers}.db"
        state, report = run_web(cfg, store, batch_size=40, workers=workers)
        assert state.is_completed(), report
        with open_store(str(store)) as opened:
            stored.append(
                sorted(
                    (r.uri, r.content_hash, r.text, [c.text for c in r.chunks])
                    for r in opened.iter_export()
                )
            )
    assert stored[0]
    assert stored[0] == stored[1]


def test_recrawl_finds_the_changed_and_the_removed_page(
    prefect_api: str, isolated_results: Path, site: SiteState, tmp_path: Path
) -> None:
    from tests.support.web_testsite import page_html

    base = site.base
    cfg = config([f"{base}/page/0.html"], max_depth=50)
    store = tmp_path / "web.db"
    state, first = run_web(cfg, store, batch_size=40)
    assert state.is_completed(), first
    pages = first["counts"]["new"]

    changed = page_html(5, site.pages, base).replace("Lorem ipsum", "Revised text")
    site.overrides["/page/5.html"] = (200, changed.encode())
    site.overrides["/page/7.html"] = (404, b"gone")
    state, second = run_web(cfg, store, batch_size=40)
    assert state.is_completed(), second
    counts = second["counts"]
    assert (counts["updated"], counts["deleted"], counts["new"]) == (1, 1, 0), counts
    assert counts["unchanged"] == pages - 2

    from ingest.store import open_store

    with open_store(str(store)) as opened:
        live = {record.uri: record for record in opened.iter_export()}
        assert f"{base}/page/7.html" not in live
        assert "Revised text" in live[f"{base}/page/5.html"].text
        assert opened.check() == []


def test_loopback_seed_without_permission_sends_nothing(
    prefect_api: str, isolated_results: Path, site: SiteState, tmp_path: Path
) -> None:
    cfg = config([f"{site.base}/page/0.html"], allow_private_network=False)
    state, report = run_web(cfg, tmp_path / "web.db")
    assert site.paths() == [], "nothing may be sent to a private address"
    assert report["counts"]["discovered"] == 0


def _ingest_cli(*args: str, env: dict[str, str]) -> Any:
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_cli_web_crawls_and_refuses_private_seeds_up_front(
    prefect_api: str, site: SiteState, tmp_path: Path
) -> None:
    import json
    import os

    env = dict(
        os.environ,
        PREFECT_API_URL=prefect_api,
        INGEST_HOME=str(tmp_path / "home"),
        INGEST_RESULTS_DIR=str(tmp_path / "results"),
    )
    seed = f"{site.base}/page/0.html"
    refused = _ingest_cli("web", seed, env=env)
    assert refused.returncode == 2
    assert "--allow-private-network" in refused.stderr
    assert site.paths() == []
    assert not (tmp_path / "home").exists()

    store = str(tmp_path / "web.db")
    run = _ingest_cli(
        "web",
        seed,
        "--allow-private-network",
        "--max-pages",
        "20",
        "--store",
        store,
        "--json",
        env=env,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["flow"] == "ingest-web"
    counts = report["counts"]
    assert 15 <= counts["new"] <= counts["discovered"] <= 20, counts
    assert counts["failed"] == 0
