"""Schema version 2: a store written by version 1 (rejections for empty, binary, too
large...) is migrated on open, its policy and type rejections becoming `skipped` with
their reason code; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from ingest.models import Outcome, RunReport
from ingest.store import SCHEMA_VERSION, open_store
from tests.support.store import SOURCE, MakeWrite, RawDatabase

# uri -> the reasons version 1 recorded when it rejected the item, and what version 2
# makes of it: ("skipped", its one `code: reason`) or ("rejected", None: unchanged).
V1_ROWS: dict[str, tuple[list[str], tuple[str, str | None]]] = {
    "file:///r/src/__init__.py": (
        ["empty: 0 bytes, less than the minimum of 1"],
        ("skipped", "empty: 0 bytes, less than the minimum of 1"),
    ),
    "file:///r/empty.json": (
        [
            "empty: 0 bytes, less than the minimum of 1",
            "invalid-json at line 1, column 1: Expecting value",
        ],
        ("skipped", "empty: 0 bytes, less than the minimum of 1"),
    ),
    "file:///r/img/logo.png": (
        ["binary: binary content, not text (named as unknown)"],
        ("skipped", "unsupported-type: image/png by its name: no processor for this type"),
    ),
    "file:///r/data/blob": (
        ["binary: binary content, not text (named as unknown)"],
        ("skipped", "binary: binary content of no type this tool reads"),
    ),
    "file:///r/huge.txt": (
        ["too-large: huge.txt: over the size cap of 10485760 bytes"],
        ("skipped", "too-large: huge.txt: over the size cap of 10485760 bytes"),
    ),
    "file:///r/etc": (
        ["symlink-outside-root: symlink to /etc, outside the source root /r; not followed"],
        (
            "skipped",
            "symlink-outside-root: symlink to /etc, outside the source root /r; not followed",
        ),
    ),
    "file:///r/screenshot.md": (
        ["binary: binary content, not text (named as text/markdown)"],
        ("rejected", None),
    ),
    "file:///r/broken.json": (
        ["invalid-json at line 2, column 3: Expecting property name"],
        ("rejected", None),
    ),
    "file:///r/loop": (["symlink-loop: the link never resolves to a file"], ("rejected", None)),
    "http://site.test/img.png": (
        ["binary: binary content, not text (named as image/png)"],
        (
            "skipped",
            "unsupported-content-type: content type image/png is not one this tool ingests",
        ),
    ),
    "http://site.test/feed": (
        ["processing: no processor for content type 'application/rss+xml'"],
        (
            "skipped",
            "unsupported-content-type: no processor for content type 'application/rss+xml'",
        ),
    ),
    "http://site.test/page": (
        ["binary-body: http://site.test/page declares text/html but its body is binary"],
        ("rejected", None),
    ),
    "http://site.test/odd": (
        ["binary: binary content, not text (named as text/html)"],
        ("rejected", None),
    ),
}


@pytest.fixture
def v1_store(store_url: str, make_write: MakeWrite) -> str:
    """A store as version 1 left it: the tables are the same, rejected rows carry the
    reasons above, and the empty `__init__.py` once had a document."""
    with open_store(store_url) as store:
        job = store.begin_job(SOURCE, "v1")
        store.write_batch(
            SOURCE,
            job,
            "r0",
            [
                make_write("file:///r/src/__init__.py", text="# once text"),
                make_write("file:///r/good.md", text="# good"),
            ],
        )
        store.write_batch(
            SOURCE,
            job,
            "r1",
            [
                make_write(uri, Outcome.REJECTED, text=uri, errors=errors)
                for uri, (errors, _) in V1_ROWS.items()
            ],
        )
        report = RunReport.model_validate(
            {
                "run_id": "r1",
                "flow": "ingest-filesystem",
                "state": "Completed",
                "counts": {"discovered": 14, "new": 1, "rejected": 13},
            }
        )
        store.record_run(report, job, SOURCE, {})
    raw = RawDatabase(store_url)
    try:
        raw.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    finally:
        raw.close()
    return store_url


def test_version_1_rejections_for_policy_and_type_become_skipped(v1_store: str) -> None:
    assert SCHEMA_VERSION >= 3
    with open_store(v1_store) as store:
        states = {state.uri: state for state in store.iter_items(SOURCE)}
        for uri, (errors, (outcome, entry)) in V1_ROWS.items():
            state = states[uri]
            assert state.outcome.value == outcome, uri
            assert state.errors == ([entry] if entry else errors), uri
        assert states["file:///r/good.md"].outcome is Outcome.NEW
        # A skipped item has no document: the one kept from before is tombstoned.
        assert [r.uri for r in store.iter_export()] == ["file:///r/good.md"]
        assert store.get_document(SOURCE, "file:///r/src/__init__.py").deleted  # type: ignore[union-attr]
        # The run history stays as it was recorded.
        run = store.get_run("r1")
        assert run is not None
        assert (run.report.counts.rejected, run.report.counts.skipped) == (13, 0)
        assert store.check() == []
    raw = RawDatabase(v1_store)
    try:
        assert raw.rows("SELECT value FROM meta WHERE key = 'schema_version'") == [
            (str(SCHEMA_VERSION),)
        ]
    finally:
        raw.close()


def test_a_migrated_skipped_item_is_current_for_the_next_run(v1_store: str) -> None:
    from ingest.models import SourceItem
    from ingest.pipeline import is_current

    with open_store(v1_store) as store:
        [state] = store.lookup(SOURCE, ["file:///r/img/logo.png"]).values()
    item = SourceItem(source_id=SOURCE, uri=state.uri, fingerprint=state.fingerprint)
    assert state.outcome is Outcome.SKIPPED
    assert is_current(item, state)


def test_a_skipped_item_keeps_its_outcome_and_code_when_unchanged(
    store_url: str, make_write: MakeWrite
) -> None:
    uri, entry = "file:///r/logo.png", "unsupported-type: image/png by its name"
    with open_store(store_url) as store:
        job = store.begin_job(SOURCE, "k")
        store.write_batch(SOURCE, job, "r1", [make_write(uri, Outcome.SKIPPED, errors=[entry])])
        store.write_batch(
            SOURCE, job, "r2", [make_write(uri, Outcome.UNCHANGED, content_hash=None)]
        )
        [state] = store.lookup(SOURCE, [uri]).values()
        assert (state.outcome, state.errors) == (Outcome.SKIPPED, [entry])
        assert list(store.iter_export(include_deleted=True)) == []
        assert store.check() == []
