"""Whole crawls of the generated site: every in-scope page exactly once, robots.txt obeyed,
sitemaps read, the private-network guard, the spider-trap bounds and politeness."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from ingest.sources.web import WebSource
from tests.support.web_helpers import config, crawl
from tests.support.web_testsite import ORPHANS, SiteState, expected_pages


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
def test_full_crawl_takes_every_page_once_and_obeys_robots(site: SiteState, backend: str) -> None:
    base = site.base
    cfg = config(
        [f"{base}/page/0.html", f"{base}/sitemap_index.xml"],
        max_depth=50,
        sorted_query=True,
        http_backend=backend,
    )
    source, pages = crawl(cfg)

    uris = [page.item.uri for page in pages]
    assert Counter(uris).most_common(1)[0][1] == 1
    assert set(uris) == expected_pages(base)
    assert all(page.error is None and page.result is not None for page in pages)
    assert all(page.item.source_id == f"web:{base}" for page in pages)
    assert all(page.item.content_type == "text/html" for page in pages)

    requested = Counter(site.paths())
    assert requested.most_common(1)[0][1] == 1, requested.most_common(3)
    assert requested["/robots.txt"] == 1
    assert not [p for p in requested if p.startswith("/private/") and p != "/private/open.html"]
    assert not [p for p in requested if p.endswith(".secret")]
    assert not [p for p in requested if "elsewhere" in p]
    assert sum(1 for p in requested if p.startswith("/orphan/")) == ORPHANS
    assert "/sitemap-orphans.xml.gz" in requested

    codes = Counter(refusal.code for refusal in source.refusals)
    assert codes["robots"] >= 1 + site.pages  # /private/9.html from the sitemap, and more
    assert codes["out-of-scope"] == 1  # example.invalid, recorded once
    blocked = {r.url for r in source.refusals if r.code == "robots"}
    assert f"{base}/private/9.html" in blocked
    assert f"{base}/files/3.secret" in blocked
    assert source.sitemap_failures == []
    assert source.stats.pages == len(pages)


def test_canonical_link_records_the_page_once(site: SiteState) -> None:
    base = site.base
    _, pages = crawl(config([f"{base}/canon.html?ref=feed", f"{base}/page/5.html"], max_depth=0))
    assert [page.item.uri for page in pages] == [f"{base}/page/5.html"]


def test_spider_trap_is_bounded_by_depth_and_pages(site: SiteState) -> None:
    base = site.base
    _, pages = crawl(config([f"{base}/trap/2024/1"], max_depth=3))
    months = {page.item.uri.split("/trap/")[1] for page in pages}
    assert months == {"2024/1", "2024/2", "2023/12", "2024/3", "2023/11", "2024/4", "2023/10"}

    source, pages = crawl(config([f"{base}/trap/2024/1"], max_depth=10_000, max_pages=25))
    assert len(pages) == 25
    assert source.frontier.refusal_counts["page-budget"] >= 1


def test_private_network_refused_without_sending_anything(site: SiteState) -> None:
    port = site.base.rsplit(":", 1)[1]
    seeds = [f"{site.base}/page/0.html", f"http://localhost:{port}/page/1.html"]
    source, pages = crawl(config(seeds, allow_private_network=False))
    assert pages == []
    assert site.paths() == []
    assert {r.code for r in source.refusals} == {"private-address"}
    assert all("allow_private_network" in r.reason for r in source.refusals)


def test_ignore_robots_only_when_set(site: SiteState) -> None:
    base = site.base
    _, pages = crawl(config([f"{base}/private/1.html"], ignore_robots=True))
    assert [page.item.uri for page in pages] == [f"{base}/private/1.html"]
    assert "/robots.txt" not in site.paths()


def page_gaps(site: SiteState) -> list[float]:
    times = [t for t, path in zip(site.times(), site.paths(), strict=True) if path != "/robots.txt"]
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def test_per_host_delay_is_respected(site: SiteState) -> None:
    delay = 0.05
    crawl(config([f"{site.base}/page/0.html"], per_host_delay=delay, max_pages=12))
    gaps = page_gaps(site)
    assert len(gaps) == 11
    # Starts are spaced on the client; on the server a new connection's setup adds jitter.
    assert min(gaps) >= delay * 0.6, gaps
    assert sum(gaps) / len(gaps) >= delay * 0.95, gaps


def test_robots_crawl_delay_raises_the_delay(site: SiteState) -> None:
    site.robots = "User-agent: *\nCrawl-delay: 0.2\n"
    crawl(config([f"{site.base}/page/0.html"], max_pages=4, per_host_concurrency=4))
    gaps = page_gaps(site)
    assert len(gaps) == 3
    assert min(gaps) >= 0.2 * 0.8, gaps


def test_failures_become_items_and_the_crawl_goes_on(site: SiteState) -> None:
    base = site.base
    cfg = config(
        [f"{base}/hang", f"{base}/missing.html", f"{base}/loop/a", f"{base}/page/0.html"],
        max_depth=1,
        read_timeout=0.3,
        max_retries=1,
    )
    _, pages = crawl(cfg)
    by_uri = {page.item.uri: page for page in pages}
    assert type(by_uri[f"{base}/hang"].error).__name__ == "FetchTimeoutError"
    assert by_uri[f"{base}/hang"].error.retryable  # type: ignore[union-attr]
    assert type(by_uri[f"{base}/missing.html"].error).__name__ == "PageGoneError"
    assert type(by_uri[f"{base}/loop/a"].error).__name__ == "RedirectLoopError"
    assert by_uri[f"{base}/page/0.html"].result is not None
    assert len([p for p in pages if p.error is None]) >= 3  # page 0 and its links


def test_binary_body_declared_as_html_is_flagged(site: SiteState) -> None:
    _, pages = crawl(config([f"{site.base}/binary.html"]))
    (page,) = pages
    assert page.item.problem_code == "binary-body"
    assert page.item.problem is not None
    assert "binary" in page.item.problem


def test_conditional_crawl_reports_not_modified(site: SiteState) -> None:
    base = site.base

    async def main() -> list[bool]:
        cfg = config([f"{base}/etag.html"])
        lookup = {f"{base}/etag.html": ('"v1"', None)}
        async with WebSource(cfg, validators=lookup.get) as source:
            return [
                page.result.not_modified
                for batch in [b async for b in source.crawl(10)]
                for page in batch
                if page.result is not None
            ]

    assert asyncio.run(main()) == [True]
    assert site.paths() == ["/robots.txt", "/etag.html"]


def test_batches_are_bounded_and_early_exit_stops_the_crawl(site: SiteState) -> None:
    async def main() -> int:
        cfg = config([f"{site.base}/page/0.html"], max_depth=50)
        async with WebSource(cfg) as source:
            async for batch in source.crawl(7):
                assert len(batch) <= 7
                return len(batch)
        return 0

    assert asyncio.run(main()) == 7
    assert len(site.paths()) < 100
