"""Conditional re-crawls tell the truth (#16): a page or sitemap that answers 304 is
followed through what it linked to on its last full fetch, and nothing is marked deleted
unless the crawl provably reached everything the previous crawl reached."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.conditional_site import ConditionalSite, serving
from tests.support.web_helpers import config

pytestmark = pytest.mark.prefect


@pytest.fixture
def csite() -> Iterator[ConditionalSite]:
    with serving() as site:
        yield site


def run_web(cfg: Any, store: Path, **options: Any) -> tuple[Any, dict[str, Any]]:
    from flows.params import RunOptions
    from flows.web import ingest_web
    from ingest.errors import RunFailedError

    async def main() -> Any:
        return await ingest_web(
            site=cfg, options=RunOptions(store=str(store), **options), return_state=True
        )

    state = asyncio.run(main())
    report = state.result(raise_on_failure=False)
    if isinstance(report, RunFailedError):
        report = report.report.model_dump(mode="json")
    assert isinstance(report, dict), report
    return state, report


def exported(store: Path) -> list[dict[str, Any]]:
    from ingest.store import open_store

    with open_store(str(store)) as opened:
        assert opened.check() == []
        return [record.model_dump(mode="json") for record in opened.iter_export()]


def site_config(site: ConditionalSite, **options: Any) -> Any:
    seeds = [f"{site.base}/", f"{site.base}/sitemap_index.xml"]
    return config(seeds, max_depth=50, **options)


def first_crawl(site: ConditionalSite, store: Path) -> list[dict[str, Any]]:
    state, report = run_web(site_config(site), store, batch_size=40)
    assert state.is_completed(), report
    assert report["counts"]["new"] == len(site.page_uris) == 200, report["counts"]
    records = exported(store)
    assert {record["uri"] for record in records} == site.page_uris
    return records


def test_unchanged_site_answers_304_everywhere_and_loses_nothing(
    prefect_api: str, isolated_results: Path, csite: ConditionalSite, tmp_path: Path
) -> None:
    store = tmp_path / "web.db"
    before = first_crawl(csite, store)

    csite.clear()
    state, report = run_web(site_config(csite), store, batch_size=40)
    assert state.is_completed(), report
    counts = report["counts"]
    assert counts["unchanged"] == counts["discovered"] == 200, counts
    assert counts["new"] == counts["updated"] == counts["deleted"] == counts["failed"] == 0
    hits = [hit for hit in csite.requests() if hit.path != "/robots.txt"]
    # Every page and the three sitemaps, each asked once and conditionally, each a 304.
    assert sorted(hit.path for hit in hits) == sorted(csite.pages)
    assert all(hit.conditional for hit in hits), [h for h in hits if not h.conditional]
    assert {hit.status for hit in hits} == {304}
    assert exported(store) == before

    # One deep page changes and links a new page; one page is gone.
    csite.change("/doc/3/19", add_link="/doc/3/new")
    csite.add("/doc/3/new")
    csite.remove("/doc/5/19")
    state, report = run_web(site_config(csite), store, batch_size=40)
    assert state.is_completed(), report
    counts = report["counts"]
    assert (counts["updated"], counts["deleted"], counts["new"]) == (1, 1, 1), counts
    assert (counts["unchanged"], counts["failed"]) == (198, 0), counts
    after = {record["uri"]: record for record in exported(store)}
    assert set(after) == csite.page_uris
    assert "v2" in (after[f"{csite.base}/doc/3/19"]["title"] or "")


def test_a_seed_that_answers_503_deletes_nothing(
    prefect_api: str, isolated_results: Path, csite: ConditionalSite, tmp_path: Path
) -> None:
    store = tmp_path / "web.db"
    before = first_crawl(csite, store)
    csite.failing["/"] = 503

    # The seed's stored links lead on: the rest of the site is reached, nothing is lost.
    state, report = run_web(site_config(csite, max_retries=1), store, batch_size=40)
    assert state.is_failed()
    assert (report["counts"]["failed"], report["counts"]["deleted"]) == (1, 0), report
    assert report["counts"]["unchanged"] == 199
    assert exported(store) == before

    # With its links unknown, what lies behind it is unknown: nothing is deleted, and the
    # report says why.
    with sqlite3.connect(store) as db:
        db.execute("DELETE FROM crawl_links WHERE url = ?", (f"{csite.base}/",))
    state, report = run_web(site_config(csite, max_retries=1), store, batch_size=40)
    assert state.is_failed()
    assert report["counts"]["deleted"] == 0, report
    assert any("links are not known" in note and "503" in note for note in report["notes"])
    assert exported(store) == before


def test_a_crawl_cut_by_max_pages_deletes_nothing(
    prefect_api: str, isolated_results: Path, csite: ConditionalSite, tmp_path: Path
) -> None:
    store = tmp_path / "web.db"
    before = first_crawl(csite, store)
    state, report = run_web(site_config(csite, max_pages=30), store, batch_size=40)
    assert state.is_completed(), report
    assert report["counts"]["discovered"] <= 30
    assert report["counts"]["deleted"] == 0
    assert any("max_pages=30" in note for note in report["notes"]), report["notes"]
    assert exported(store) == before


def test_pages_stored_without_links_are_fetched_in_full_once_behind_a_304(
    prefect_api: str, isolated_results: Path, csite: ConditionalSite, tmp_path: Path
) -> None:
    """A store from before links were kept: a 304 page is fetched again in full (its
    links learnt and stored), and nothing is lost."""
    store = tmp_path / "web.db"
    before = first_crawl(csite, store)
    with sqlite3.connect(store) as db:
        db.execute("DELETE FROM crawl_links")
    csite.clear()
    state, report = run_web(site_config(csite), store, batch_size=40)
    assert state.is_completed(), report
    assert (report["counts"]["unchanged"], report["counts"]["deleted"]) == (200, 0)
    statuses = [hit.status for hit in csite.requests() if hit.path.startswith("/doc/")]
    assert statuses.count(304) == statuses.count(200) == 180
    assert exported(store) == before

    csite.clear()
    state, report = run_web(site_config(csite), store, batch_size=40)
    assert report["counts"]["unchanged"] == 200, report
    assert {hit.status for hit in csite.requests() if hit.path != "/robots.txt"} == {304}

    # --full reprocesses every page: it asks for bodies, not for 304s.
    csite.clear()
    state, report = run_web(site_config(csite), store, batch_size=40, full=True)
    assert state.is_completed(), report
    assert (report["counts"]["failed"], report["counts"]["deleted"]) == (0, 0), report
    pages = [hit for hit in csite.requests() if hit.path.startswith(("/doc/", "/orphan/"))]
    assert len(pages) == 190
    assert not any(hit.conditional for hit in pages)


def test_an_unreadable_robots_txt_deletes_nothing(
    prefect_api: str, isolated_results: Path, csite: ConditionalSite, tmp_path: Path
) -> None:
    store = tmp_path / "web.db"
    before = first_crawl(csite, store)
    csite.failing["/robots.txt"] = 503
    state, report = run_web(site_config(csite, max_retries=0), store, batch_size=40)
    assert report["counts"]["deleted"] == 0, report
    assert any("robots.txt could not be read" in note for note in report["notes"])
    assert exported(store) == before


def test_the_delete_guard_refuses_to_empty_a_site_then_the_override_deletes(
    prefect_api: str, isolated_results: Path, csite: ConditionalSite, tmp_path: Path
) -> None:
    store = tmp_path / "web.db"
    before = first_crawl(csite, store)
    # The home page now links nowhere and the sitemaps list nothing: a complete crawl
    # reaches the seed and the orphans only.
    csite.change("/")
    csite.pages["/"].links.clear()
    with csite.lock:
        del csite.pages["/sitemap-sections.xml"]
    state, report = run_web(site_config(csite), store, batch_size=40)
    assert state.is_failed()
    assert report["counts"]["deleted"] == 0
    message = state.message
    for words in ("189 of 200", "maximum delete share of 50%", "--max-delete-share 1"):
        assert words in message
    assert [r for r in exported(store) if r["uri"] != f"{csite.base}/"] == [
        r for r in before if r["uri"] != f"{csite.base}/"
    ]

    state, report = run_web(site_config(csite), store, batch_size=40, max_delete_share=1.0)
    assert state.is_completed(), report
    assert report["counts"]["deleted"] == 189, report["counts"]
    assert len(exported(store)) == 11
