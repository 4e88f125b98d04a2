"""Crawls killed with SIGKILL at seeded random points, then run again: every page is
stored exactly once, as in a clean crawl, and no page stored before the kill is
requested again."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import start_ingest
from tests.support.kill import job_left_open, kill_at
from tests.support.web_testsite import SiteState

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

# One kill in each third of the crawl covers the same kill points as more random ones,
# in fewer crawls.
ITERATIONS = 3


def _crawl(seed: str, store: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return start_ingest(
        "web",
        seed,
        "--allow-private-network",
        "--max-depth",
        "50",
        "--delay",
        "0.01",
        "--max-requests",
        "4",
        "--batch-size",
        "20",
        "--store",
        str(store),
        "--json",
        env=env,
    )


def _stored(store: Path) -> dict[str, tuple[str, bool]]:
    from ingest.store import open_store

    with open_store(str(store)) as opened:
        assert opened.check() == []
        records = list(opened.iter_export(include_deleted=True))
        assert len(records) == len({r.uri for r in records}), "a page is stored twice"
        return {r.uri: (r.content_hash, r.deleted) for r in records}


def _done_uris(store: Path) -> set[str]:
    from ingest.store import open_store

    with open_store(str(store)) as opened:
        source = next(iter({r.source for r in opened.iter_export()}), None)
        if source is None:
            return set()
        return {state.uri for state in opened.iter_items(source) if state.fingerprint}


def test_killed_crawls_resume_without_refetching_stored_pages(
    prefect_api: str, site: SiteState, tmp_path: Path
) -> None:
    env = dict(
        os.environ,
        PREFECT_API_URL=prefect_api,
        INGEST_HOME=str(tmp_path / "home"),
        INGEST_RESULTS_DIR=str(tmp_path / "results"),
    )
    seed = f"{site.base}/page/0.html"
    clean = _crawl(seed, tmp_path / "clean.db", env)
    out, err = clean.communicate(timeout=300)
    assert clean.returncode == 0, err
    expected = _stored(tmp_path / "clean.db")
    assert len(expected) > 250

    rng = random.Random(1129)
    span = len(expected) // ITERATIONS
    interrupted = 0
    for iteration in range(ITERATIONS):
        store = tmp_path / f"killed-{iteration}.db"
        victim = _crawl(seed, store, env)
        kill_at(victim, store, rng.randrange(iteration * span, (iteration + 1) * span))
        victim.communicate(timeout=60)
        done_before = _done_uris(store) if store.exists() else set()
        completed = not (store.exists() and job_left_open(store))
        first_retry_hit = len(site.hits)

        retry = _crawl(seed, store, env)
        out, err = retry.communicate(timeout=300)
        assert retry.returncode == 0, err
        assert json.loads(out)["counts"]["failed"] == 0
        assert _stored(store) == expected, f"iteration {iteration}: store differs"
        # A crawl that completed before the kill closed its job: the next one is a new
        # crawl, not a resume, and fetches everything again (the site sends no ETags).
        resumed = set() if completed else done_before
        requested = {f"{site.base}{hit.path}" for hit in site.hits[first_retry_hit:]}
        refetched = requested & resumed
        assert not refetched, f"iteration {iteration}: fetched again: {sorted(refetched)[:5]}"
        interrupted += not completed
        print(
            f"iteration {iteration}: {len(done_before)} pages stored before the kill"
            f"{' (the crawl had completed)' if completed else ''}"
        )
    assert interrupted >= ITERATIONS // 2, "the kills came too late to test anything"
