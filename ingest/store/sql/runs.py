"""Jobs (one per source and job key, shared by its concurrent runs) and the
records of finished runs with their failures."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from sqlalchemy import Connection, func, select

from ...errors import StoreError
from ...models import Failure, RunReport
from ..schema import failures, jobs, runs
from ..urls import redact
from .statements import now, upsert

if TYPE_CHECKING:
    from .statements import AnyRow


class StoredRun(BaseModel):
    """A run as recorded by `record_run`."""

    report: RunReport
    job_id: str | None
    source_id: str
    parameters: dict[str, Any]
    finished_at: datetime


def begin_job(conn: Connection, source_id: str, job_key: str) -> str:
    """The unfinished job of (source, key), or a new one."""
    if conn.dialect.name == "postgresql":
        # Concurrent runs of one job must share it (their seen marks would
        # otherwise tombstone each other's items): one begin_job at a time.
        conn.execute(select(func.pg_advisory_xact_lock(_lock_key(source_id, job_key))))
    existing = conn.scalar(
        select(jobs.c.job_id)
        .where(
            jobs.c.source_id == source_id,
            jobs.c.job_key == job_key,
            jobs.c.finished_at.is_(None),
        )
        .order_by(jobs.c.started_at.desc())
        .limit(1)
    )
    if existing is not None:
        return str(existing)
    job_id = uuid.uuid4().hex
    conn.execute(
        jobs.insert().values(job_id=job_id, source_id=source_id, job_key=job_key, started_at=now())
    )
    return job_id


def finish_job(conn: Connection, job_id: str, where: str) -> None:
    """Mark the job finished; finishing it again keeps the first time."""
    known = conn.scalar(select(jobs.c.finished_at.is_(None)).where(jobs.c.job_id == job_id))
    if known is None:
        raise StoreError(f"finish_job: unknown job {job_id} in store {where}", retryable=False)
    conn.execute(
        jobs.update()
        .where(jobs.c.job_id == job_id, jobs.c.finished_at.is_(None))
        .values(finished_at=now())
    )


def run_row(
    report: RunReport,
    job_id: str,
    source_id: str,
    parameters: dict[str, object],
    scrub: Callable[[str], str],
) -> dict[str, Any]:
    """The run's record; `scrub` hides the store's password from its text."""
    return {
        "run_id": report.run_id,
        "job_id": job_id,
        "source_id": source_id,
        "flow": report.flow,
        "state": report.state,
        "counts": report.counts.model_dump(mode="json"),
        # A store URL among the parameters or messages keeps no password here.
        "parameters": _scrubbed(to_jsonable_python(parameters, fallback=str), scrub, redact),
        "report": _scrubbed(report.model_dump(mode="json"), scrub),
        "duration_s": report.duration_s,
        "finished_at": now(),
    }


def save_run(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(upsert(conn, runs, ["run_id"], [k for k in row if k != "run_id"]), [row])


def _scrubbed(value: Any, scrub: Callable[[str], str], urls: Callable[[str], str] = str) -> Any:
    """`value` without the store's password; `urls` also hides other URL passwords."""
    if isinstance(value, str):
        return urls(scrub(value))
    if isinstance(value, dict):
        return {k: _scrubbed(v, scrub, urls) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, scrub, urls) for v in value]
    return value


def get_run(conn: Connection, run_id: str) -> StoredRun | None:
    row = conn.execute(select(runs).where(runs.c.run_id == run_id)).first()
    return None if row is None else _stored_run(row)


def latest_runs(conn: Connection, limit: int, source_id: str | None) -> list[StoredRun]:
    """The most recently recorded runs, newest first."""
    query = select(runs).order_by(runs.c.finished_at.desc(), runs.c.run_id).limit(limit)
    if source_id is not None:
        query = query.where(runs.c.source_id == source_id)
    return [_stored_run(row) for row in conn.execute(query)]


def failures_for(conn: Connection, run_id: str) -> list[Failure]:
    """The failures recorded by `write_batch` in a run, in insertion order."""
    rows = conn.execute(select(failures).where(failures.c.run_id == run_id).order_by(failures.c.id))
    return [
        Failure(
            uri=r.uri,
            stage=r.stage,
            error_type=r.error_type,
            message=r.message,
            retryable=r.retryable,
        )
        for r in rows
    ]


def _stored_run(row: AnyRow) -> StoredRun:
    return StoredRun(
        report=RunReport.model_validate(row.report),
        job_id=row.job_id,
        source_id=row.source_id,
        parameters=row.parameters,
        finished_at=row.finished_at,
    )


def _lock_key(*parts: str) -> int:
    """A stable signed 64-bit key for a PostgreSQL advisory lock."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
