"""Engines for the store's backends (SQLite pragmas and transaction control),
and the mapping of SQLAlchemy errors to `StoreError`."""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import (
    DisconnectionError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from ..errors import StoreError
from .urls import StoreLocation

# Execution option on a connection whose transaction will write: SQLite then
# takes the write lock at BEGIN, so a read-then-write never fails on upgrade.
WRITE = "ingest_write"
BUSY_TIMEOUT_MS = 30_000
_MAX_DETAIL = 500


def _json(value: Any) -> str:
    # Metadata may hold dates or paths from front matter; store them as strings.
    return to_json(value, fallback=str).decode()


def build_engine(location: StoreLocation) -> Engine:
    """One engine per store; for SQLite, create the parent folder first."""
    options: dict[str, Any] = {
        "hide_parameters": True,  # parameters carry document text, never log them
        "json_serializer": _json,
    }
    path = location.sqlite_path
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder of store {location.display}: {exc}",
                retryable=False,
                details={"store": location.display},
            ) from exc
        options["connect_args"] = {"check_same_thread": False}
    else:
        options["pool_pre_ping"] = True
    try:
        engine = create_engine(location.url, **options)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(
            f"cannot open store {location.display}: the database driver is not installed "
            f"({exc}); for PostgreSQL install psycopg",
            retryable=False,
            details={"store": location.display},
        ) from exc
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (below); the driver's implicit one skips DDL.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def store_error(
    exc: SQLAlchemyError, *, operation: str, where: str, source_id: str | None = None
) -> StoreError:
    """A StoreError naming the store and the operation; retryable when waiting can help."""
    retryable = isinstance(exc, OperationalError | DisconnectionError | PoolTimeoutError)
    if isinstance(exc, IntegrityError):
        retryable = False
    orig = getattr(exc, "orig", None)
    cause = orig if isinstance(orig, BaseException) else exc
    detail = " ".join(str(cause).split())
    if len(detail) > _MAX_DETAIL:
        detail = detail[:_MAX_DETAIL] + "..."
    return StoreError(
        f"{operation} failed on store {where}: {type(cause).__name__}: {detail}",
        source_id=source_id,
        retryable=retryable,
        details={"store": where, "operation": operation, "error": type(exc).__name__},
    )
