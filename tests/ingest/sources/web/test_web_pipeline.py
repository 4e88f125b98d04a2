"""Crawled batches through `ingest.pipeline.run_batch` and a real SQLite store: pages are new,
failures failed, binary bodies rejected, and a conditional re-crawl finds them unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.models import BatchResult
from ingest.pipeline import BatchConfig, BatchContext, run_batch
from ingest.sources.web import CrawledBatchSource, WebSource, validators_from_fingerprint
from ingest.store import open_store
from ingest.store.sql import SqlStore
from tests.support.web_helpers import config
from tests.support.web_testsite import SiteState


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(str(tmp_path / "store.db"))
    yield opened
    opened.close()


def ingest(site: SiteState, store: SqlStore, *, conditional: bool) -> BatchResult:
    seeds = [f"{site.base}/{path}" for path in ("etag.html", "missing.html", "binary.html")]
    cfg = config([*seeds, f"{site.base}/page/0.html"], max_depth=0)

    def lookup(uri: str) -> tuple[str | None, str | None] | None:
        state = store.lookup(source_id, [uri]).get(uri)
        return validators_from_fingerprint(state.fingerprint) if state else None

    async def main() -> BatchResult:
        total = BatchResult()
        async with WebSource(cfg, validators=lookup if conditional else None) as source:
            job_id = store.begin_job(source.source_id, "web-test")
            async for pages in source.crawl(2):
                batch = CrawledBatchSource(source.source_id, pages)
                ctx = BatchContext(
                    source=batch, store=store, config=BatchConfig(job_id=job_id, run_id="r")
                )
                total.merge(run_batch(batch.items, ctx))
            store.finish_job(job_id)
        return total

    source_id = f"web:{site.base}"
    return asyncio.run(main())


def test_crawled_batches_go_through_the_pipeline(site: SiteState, store: SqlStore) -> None:
    first = ingest(site, store, conditional=False)
    assert (first.counts.new, first.counts.failed, first.counts.rejected) == (2, 0, 2)
    reasons = {r.uri.rsplit("/", 1)[-1]: r.errors[0] for r in first.rejected}
    assert reasons["missing.html"].startswith("gone: HTTP 404")
    assert any("binary" in reason for reason in reasons.values())

    again = ingest(site, store, conditional=True)
    # the ETag page by a 304, the others because their content hash is their fingerprint
    assert again.counts.unchanged == 3
    assert again.counts.rejected == 1  # still gone
    assert again.counts.deleted == 0
    conditional = [hit for hit in site.hits if hit.headers.get("if-none-match") == '"v1"']
    assert [hit.path for hit in conditional] == ["/etag.html"]
