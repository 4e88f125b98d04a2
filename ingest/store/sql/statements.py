"""Statement helpers shared by the SQL store's modules: dialect upserts, bounded IN
lists, the outcome groups and the clock."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Insert, Row, Table, and_, case, func
from sqlalchemy.dialects import postgresql, sqlite

from ...errors import StoreError
from ...models import Outcome

if TYPE_CHECKING:
    from typing import TypeAlias

    AnyRow: TypeAlias = Row[*tuple[Any, ...]]

# Bound on IN lists: well under SQLite's variable limit and cheap for PostgreSQL.
IN_CHUNK = 500
DOCUMENTED = (Outcome.NEW, Outcome.UPDATED)
LIVE_WITH_DOCUMENT = (Outcome.NEW, Outcome.UPDATED, Outcome.UNCHANGED)


def chunked(values: Sequence[str], size: int = IN_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def now() -> datetime:
    return datetime.now(UTC)


def _insert(conn: Connection, table: Table) -> sqlite.Insert | postgresql.Insert:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise StoreError(f"no upsert for dialect {dialect}", retryable=False)


def upsert(
    conn: Connection,
    table: Table,
    keys: Sequence[str],
    update: Sequence[str],
    keep_known: Sequence[str] = (),
    keep_skipped: bool = False,
) -> Insert:
    """INSERT ... ON CONFLICT (keys) DO UPDATE the `update` columns; a
    `keep_known` column keeps its stored value when the new one is NULL; with
    `keep_skipped`, a stored `skipped` outcome stays when the new one is `unchanged`."""
    stmt = _insert(conn, table)
    set_: dict[str, Any] = {name: stmt.excluded[name] for name in update}
    for name in keep_known:
        set_[name] = func.coalesce(stmt.excluded[name], table.c[name])
    if keep_skipped:
        stored, new = table.c.outcome, stmt.excluded.outcome
        still_skipped = and_(new == Outcome.UNCHANGED.value, stored == Outcome.SKIPPED.value)
        set_["outcome"] = case((still_skipped, stored), else_=new)
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=set_)
