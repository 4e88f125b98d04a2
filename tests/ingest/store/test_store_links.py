"""Crawl links kept beside validators (#16): a page's links go with its write, a failed
write keeps the stored ones, sitemaps are saved on their own; what a tombstoning would
delete is counted first; a version-1 store migrates to version 2."""

from __future__ import annotations

from pathlib import Path

from ingest.models import Failure, Outcome
from ingest.store import SCHEMA_VERSION, SqlStore, StoredLinks, open_store
from ingest.store.schema import crawl_links
from tests.support.store import SOURCE, MakeWrite, RawDatabase


def links_of(store: SqlStore) -> dict[str, tuple[str, str | None, list[str]]]:
    return {r.url: (r.kind, r.fingerprint, r.links) for r in store.iter_links(SOURCE)}


def test_page_links_are_written_with_the_item_and_kept_by_a_failure(
    store: SqlStore, make_write: MakeWrite
) -> None:
    job = store.begin_job(SOURCE, "k")
    store.write_batch(
        SOURCE,
        job,
        "run-1",
        [
            make_write("a", fingerprint="etag:1", links=["b", "c"]),
            make_write("b", Outcome.REJECTED, errors=["bad"], fingerprint="etag:2", links=[]),
            make_write("c"),  # links not learnt: nothing is written for it
        ],
    )
    assert links_of(store) == {"a": ("page", "etag:1", ["b", "c"]), "b": ("page", "etag:2", [])}

    failure = Failure(uri="a", stage="fetch", error_type="X", message="503", retryable=True)
    store.write_batch(
        SOURCE,
        job,
        "run-2",
        [
            make_write("a", Outcome.FAILED, failure=failure, links=["zzz"]),
            make_write("b", Outcome.UNCHANGED, fingerprint="etag:2", links=None),
        ],
    )
    assert links_of(store)["a"] == ("page", "etag:1", ["b", "c"])
    assert links_of(store)["b"] == ("page", "etag:2", [])


def test_sitemaps_are_saved_and_replaced(store: SqlStore) -> None:
    first = StoredLinks(url="s.xml", kind="urlset", fingerprint="etag:1", links=["a", "b"])
    store.save_links(SOURCE, [first])
    store.save_links(SOURCE, [first.model_copy(update={"fingerprint": "etag:2", "links": []})])
    store.save_links(SOURCE, [])
    assert links_of(store) == {"s.xml": ("urlset", "etag:2", [])}
    assert list(store.iter_links("other")) == []


def test_count_unseen_is_what_tombstone_unseen_deletes(
    store: SqlStore, make_write: MakeWrite
) -> None:
    job = store.begin_job(SOURCE, "k")
    store.write_batch(SOURCE, job, "run-1", [make_write(u) for u in ("a", "b", "c", "d")])
    store.finish_job(job)
    assert store.count_unseen(SOURCE, job) == (0, 4)
    job2 = store.begin_job(SOURCE, "k")
    store.mark_seen(SOURCE, job2, ["a"])
    assert store.count_unseen(SOURCE, job2) == (3, 4)
    assert store.count_unseen("empty", job2) == (0, 0)
    assert len(store.tombstone_unseen(SOURCE, job2, "run-2")) == 3
    assert store.count_unseen(SOURCE, job2) == (0, 1)


def test_a_version_1_store_migrates_and_keeps_its_data(
    store: SqlStore, make_write: MakeWrite, db: RawDatabase, store_url: str, tmp_path: Path
) -> None:
    job = store.begin_job(SOURCE, "k")
    store.write_batch(SOURCE, job, "run-1", [make_write("a")])
    store.close()
    db.execute(f"DROP TABLE {crawl_links.name}")  # noqa: S608 - a fixed name
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with open_store(store_url) as reopened:
        assert reopened.check() == []
        assert [d.uri for d in reopened.iter_export()] == ["a"]
        assert list(reopened.iter_links(SOURCE)) == []
        reopened.save_links(
            SOURCE, [StoredLinks(url="s", kind="urlset", fingerprint=None, links=[])]
        )
    assert db.rows("SELECT value FROM meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]
    assert SCHEMA_VERSION >= 3
