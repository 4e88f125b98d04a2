"""Store URLs: paths, sqlite URLs, the default location, and password redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import ConfigurationError, StoreError
from ingest.store import default_store_path, open_store, parse_store_url, redact

SECRET = "s3cr3t-Pa55"


def test_plain_relative_path_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    location = parse_store_url("data/ingest.db")
    assert location.dialect == "sqlite"
    assert location.sqlite_path == tmp_path / "data" / "ingest.db"


def test_absolute_path_and_sqlite_url_agree(tmp_path: Path) -> None:
    target = tmp_path / "x.db"
    assert parse_store_url(str(target)).sqlite_path == target
    assert parse_store_url(f"sqlite:///{target}").sqlite_path == target


def test_tilde_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert parse_store_url("~/stores/a.db").sqlite_path == tmp_path / "stores" / "a.db"
    assert parse_store_url("sqlite:///~/b.db").sqlite_path == tmp_path / "b.db"


def test_default_location_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGEST_HOME", str(tmp_path / "home"))
    assert default_store_path() == tmp_path / "home" / "ingest.db"
    assert parse_store_url(None).sqlite_path == tmp_path / "home" / "ingest.db"
    monkeypatch.delenv("INGEST_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_store_path() == tmp_path / "xdg" / "aichemist-ingest" / "ingest.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    expected = tmp_path / "user" / ".local" / "share" / "aichemist-ingest" / "ingest.db"
    assert default_store_path() == expected


def test_open_creates_parent_folders(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c.db"
    with open_store(f"sqlite:///{target}") as store:
        assert store.documents_count() == 0
    assert target.is_file()


@pytest.mark.parametrize(
    "url",
    ["mysql://user@host/db", "file:///tmp/x.db", "sqlite://", "sqlite:///:memory:", "  "],
)
def test_unsupported_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_store_url(url)


def test_unsupported_url_message_hides_the_password() -> None:
    with pytest.raises(ConfigurationError, match="unsupported store URL") as info:
        parse_store_url(f"mysql://user:{SECRET}@host/db")
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://ingest:{SECRET}@127.0.0.1:1/ingest",
        f"postgresql+psycopg://ingest:{SECRET}@127.0.0.1:1/ingest",
        f"postgresql://ingest:{SECRET}@weird@127.0.0.1:1/ingest",
        f"postgresql://127.0.0.1:1/ingest?user=ingest&password={SECRET}",
    ],
)
def test_postgres_url_is_accepted_and_redacted(url: str) -> None:
    location = parse_store_url(url)
    assert location.dialect == "postgresql"
    assert location.url.drivername.startswith("postgresql+")
    for text in (str(location), repr(location), redact(url)):
        assert SECRET not in text
        assert "***" in text
    # No driver (or no server) here: opening fails with a clear, redacted StoreError.
    with pytest.raises(StoreError) as info:
        open_store(url)
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)
    assert "***" in str(info.value)


def test_store_repr_names_its_location(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "s.db")) as store:
        assert str(tmp_path / "s.db") in repr(store)


@pytest.mark.parametrize(
    "url",
    ["postgresql+asyncpg://u:p@127.0.0.1/db", "postgresql+nosuch://u@h/db", "postgresql://u@h"],
)
def test_unusable_postgres_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_store_url(url)
    assert ":p@" not in str(info.value)
