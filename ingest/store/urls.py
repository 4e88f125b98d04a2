"""Store locations: the default SQLite path, parsing of `--store` values into
SQLAlchemy URLs, and redaction of passwords for messages and reprs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError

from ..errors import ConfigurationError
from ..redact import MASK, redact_url
from ..settings import data_dir

DB_NAME = "ingest.db"

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite"}
_POSTGRES_DRIVERS = {"postgresql", "postgres"}
_POSTGRES_SYNC_DRIVERS = {"psycopg", "psycopg2"}
_PASSWORD_KEYS = ("password", "passwd", "pwd", "sslpassword")


@dataclass(frozen=True)
class StoreLocation:
    """A parsed store URL, with the text to show for it (never the password)."""

    url: URL
    display: str

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    @property
    def sqlite_path(self) -> Path | None:
        if self.dialect != "sqlite" or not self.url.database:
            return None
        return Path(self.url.database)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The passwords in the URL, to scrub from any text shown to users."""
        found = [self.url.password] if self.url.password else []
        for key in _PASSWORD_KEYS:
            value = self.url.query.get(key)
            values = (value,) if isinstance(value, str) else tuple(value or ())
            found.extend(v for v in values if v)
        return tuple(str(v) for v in found)

    def scrub(self, text: str) -> str:
        """`text` with every password of this location replaced by ***."""
        forms = {form for s in self.secrets for form in (s, quote(s, safe=""), quote_plus(s))}
        for secret in sorted(forms, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    def __repr__(self) -> str:
        return f"StoreLocation({self.display!r})"

    def __str__(self) -> str:
        return self.display


def default_store_path() -> Path:
    """$INGEST_HOME/ingest.db, else $XDG_DATA_HOME/aichemist-ingest/ingest.db,
    else ~/.local/share/aichemist-ingest/ingest.db (the settings' data folder)."""
    return data_dir() / DB_NAME


def redact(url: str | URL) -> str:
    """The URL with any password replaced by ***, for messages and logs."""
    text = url.render_as_string(hide_password=True) if isinstance(url, URL) else url
    return redact_url(text, keep_user=True)


def split_password(url: str) -> tuple[str, str | None]:
    """The store URL without the password of its user info, and that password (None
    when there is none: paths, SQLite URLs, URLs without one)."""
    raw = url.strip()
    if not _SCHEME.match(raw):
        return url, None
    try:
        parsed = make_url(raw)
    except ArgumentError:
        return url, None
    if not parsed.password:
        return url, None
    # `URL.set(password=None)` keeps the password: None means "unchanged" there.
    without = URL.create(
        parsed.drivername,
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    return without.render_as_string(hide_password=False), str(parsed.password)


def parse_store_url(url: str | None) -> StoreLocation:
    """Turn a `--store` value into a location; raise ConfigurationError if unsupported.

    None means the default SQLite file; a value without a scheme is a filesystem
    path; `sqlite:///rel.db` and `sqlite:////abs.db` follow SQLAlchemy's convention.
    """
    if url is None:
        return _sqlite(default_store_path())
    raw = url.strip()
    if not raw:
        raise ConfigurationError("empty store URL")
    if not _SCHEME.match(raw):
        return _sqlite(Path(raw))
    display = redact(raw)
    try:
        parsed = make_url(raw)
    except ArgumentError as exc:
        raise ConfigurationError(f"invalid store URL {display}") from exc
    scheme = parsed.drivername
    backend = scheme.split("+", 1)[0]
    if scheme in _SQLITE_DRIVERS:
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise ConfigurationError(
                f"unsupported store URL {display}: "
                "give a SQLite file path, not an in-memory database"
            )
        return _sqlite(Path(database), query=parsed.query)
    if backend in _POSTGRES_DRIVERS:
        # psycopg 3 is the driver installed with the package; psycopg2 works if present.
        driver = scheme.split("+", 1)[1] if "+" in scheme else "psycopg"
        if driver not in _POSTGRES_SYNC_DRIVERS:
            raise ConfigurationError(
                f"unsupported store URL {display}: the PostgreSQL driver {driver!r} is not "
                "supported; use postgresql://... (psycopg 3)"
            )
        if not parsed.database:
            raise ConfigurationError(f"store URL {display} names no database")
        return StoreLocation(parsed.set(drivername=f"postgresql+{driver}"), display)
    raise ConfigurationError(
        f"unsupported store URL {display}: use a file path, sqlite:///PATH or postgresql://..."
    )


def _sqlite(path: Path, query: Mapping[str, str | tuple[str, ...]] | None = None) -> StoreLocation:
    resolved = path.expanduser().absolute()
    parsed = URL.create("sqlite", database=str(resolved), query=query or {})
    return StoreLocation(parsed, redact(parsed))
