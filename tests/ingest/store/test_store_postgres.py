"""What is particular to PostgreSQL: URL forms, the password kept out of every
message and record, NUL characters, and batches beyond one statement's parameters."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url

from ingest.errors import StoreError
from ingest.models import Chunk, Counts, Failure, Outcome, RunReport
from ingest.store import SqlStore, open_store, parse_store_url
from tests.support.store import SOURCE, MakeWrite, make_document

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


def _plain(store_url: str) -> str:
    """The same store as `postgresql://` (no explicit driver)."""
    return store_url.replace("postgresql+psycopg://", "postgresql://", 1)


def test_plain_and_short_schemes_open_with_psycopg(store: SqlStore, store_url: str) -> None:
    for url in (_plain(store_url), _plain(store_url).replace("postgresql://", "postgres://")):
        location = parse_store_url(url)
        assert location.url.drivername == "postgresql+psycopg"
        with open_store(url) as same:
            assert same.check() == []


def test_wrong_password_error_hides_both_passwords(store: SqlStore, store_url: str) -> None:
    real = str(make_url(store_url).password)
    wrong = "Wr0ng-" + real[::-1]
    url = make_url(store_url).set(password=wrong).render_as_string(hide_password=False)
    with pytest.raises(StoreError, match="password authentication failed") as info:
        open_store(url)
    for text in (str(info.value), repr(info.value), str(info.value.details)):
        assert wrong not in text
        assert real not in text
    assert "***" in str(info.value)


def test_password_is_kept_out_of_recorded_runs(store: SqlStore, store_url: str) -> None:
    password = str(make_url(store_url).password)
    report = RunReport(
        run_id="run-1",
        flow="ingest-filesystem",
        state="FAILED",
        counts=Counts(discovered=1, failed=1),
        failures=[
            Failure(uri="a.md", stage="store", error_type="StoreError", message=f"x {store_url}")
        ],
        duration_s=0.1,
    )
    store.record_run(report, "job", SOURCE, {"options": {"store": store_url}})
    stored = store.get_run("run-1")
    assert stored is not None
    assert password not in stored.model_dump_json()
    assert "***" in stored.parameters["options"]["store"]
    assert repr(store).count("***") == 1
    assert password not in repr(store)


def test_password_comes_from_the_environment_when_the_url_has_none(
    store: SqlStore, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # libpq's PGPASSWORD (or ~/.pgpass) keeps the secret out of the URL entirely.
    parsed = make_url(store_url)
    monkeypatch.setenv("PGPASSWORD", str(parsed.password))
    url = parsed.set(password=None).render_as_string(hide_password=False)
    with open_store(url) as same:
        assert same.check() == []


def test_nul_characters_become_replacement_characters(
    store: SqlStore, make_write: MakeWrite
) -> None:
    document = make_document("nul.md", "a\x00b", 1)
    document.title = "t\x00"
    document.metadata = {"k\x00": ["v\x00", {"deep": "\x00"}]}
    document.chunks = [Chunk(seq=0, text="c\x00", metadata={"m": "\x00"})]
    write = make_write("nul.md", document=document, errors=[])
    store.write_batch(SOURCE, "job", "run", [write])
    stored = store.get_document(SOURCE, "nul.md")
    assert stored is not None
    assert (stored.text, stored.title) == ("a\ufffdb", "t\ufffd")
    assert stored.metadata == {"k\ufffd": ["v\ufffd", {"deep": "\ufffd"}]}
    assert [(c.text, c.metadata) for c in stored.chunks] == [("c\ufffd", {"m": "\ufffd"})]
    store.write_batch(
        SOURCE, "job", "run", [make_write("bad.md", Outcome.REJECTED, errors=["NUL \x00 here"])]
    )
    assert store.lookup(SOURCE, ["bad.md"])["bad.md"].errors == ["NUL \ufffd here"]
