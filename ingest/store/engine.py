"""Engines for the store's backends (SQLite pragmas and transaction control),
and the mapping of SQLAlchemy errors to `StoreError`."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
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
# PostgreSQL's serialization_failure and deadlock_detected.
CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})
_MAX_DETAIL = 500


def _json(value: Any) -> str:
    # Metadata may hold dates or paths from front matter; store them as strings.
    return to_json(value, fallback=str).decode()


def without_nul(value: str) -> str:
    """PostgreSQL text and JSONB cannot hold NUL: it becomes U+FFFD there."""
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def _without_nul_deep(value: Any) -> Any:
    if isinstance(value, str):
        return without_nul(value)
    if isinstance(value, dict):
        return {_without_nul_deep(k): _without_nul_deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul_deep(v) for v in value]
    return value


def _pg_json(value: Any) -> str:
    text = _json(value)
    # JSON text holds a NUL only as the escape \u0000, which JSONB refuses; walking
    # every value to replace it costs more than the rest of a chunk's write, so only
    # a value whose text has the escape (or a backslash before "u0000") is walked.
    if "\\u0000" not in text:
        return text
    return without_nul(_json(_without_nul_deep(value)))


def json_serializer(dialect: str) -> Callable[[Any], str]:
    """How the store turns a JSON column's value into text on `dialect`."""
    return _pg_json if dialect == "postgresql" else _json


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
        options["json_serializer"] = _pg_json
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
    elif engine.dialect.name == "postgresql":
        _configure_postgres(engine)
    return engine


def _enable_wal(cursor: Any) -> None:
    # Switching a new file to WAL does not wait on the busy handler: concurrent
    # first opens get "database is locked" at once, so wait here as a writer would.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


def _configure_postgres(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Like SQLite's busy timeout: a writer waits this long for a row or table
        # lock, then fails with a retryable error instead of hanging.
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"SET lock_timeout = {int(BUSY_TIMEOUT_MS)}")
        finally:
            cursor.close()
        dbapi_connection.commit()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (below); the driver's implicit one skips DDL.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def is_conflict(exc: SQLAlchemyError) -> bool:
    """A deadlock or serialization failure: running the transaction again can succeed."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in CONFLICT_SQLSTATES


def store_error(
    exc: SQLAlchemyError,
    *,
    operation: str,
    where: str,
    source_id: str | None = None,
    scrub: Callable[[str], str] = str,
) -> StoreError:
    """A StoreError naming the store and the operation; retryable when waiting can help.
    `scrub` removes the store's password from the driver's message."""
    retryable = isinstance(exc, OperationalError | DisconnectionError | PoolTimeoutError)
    if isinstance(exc, IntegrityError):
        retryable = False
    orig = getattr(exc, "orig", None)
    cause = orig if isinstance(orig, BaseException) else exc
    detail = scrub(" ".join(str(cause).split()))
    if len(detail) > _MAX_DETAIL:
        detail = detail[:_MAX_DETAIL] + "..."
    return StoreError(
        f"{operation} failed on store {where}: {type(cause).__name__}: {detail}",
        source_id=source_id,
        retryable=retryable,
        details={"store": where, "operation": operation, "error": type(exc).__name__},
    )
