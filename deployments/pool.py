"""The `ingest` process work pool and its priority queues, created idempotently."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient
    from prefect.client.schemas.objects import WorkPool

POOL_NAME = "ingest"
POOL_TYPE = "process"
# Work-queue priority is Prefect's only run priority: 1 is served first.
QUEUES: Mapping[str, int] = {"high": 1, "default": 2, "low": 3}
PRIORITIES = tuple(QUEUES)


async def aensure_work_pool(
    name: str = POOL_NAME,
    *,
    concurrency_limit: int | None = None,
    client: PrefectClient | None = None,
) -> WorkPool:
    """Create the pool (type process) and its queues `high`, `default`, `low` with
    priorities 1, 2, 3, or bring existing ones to that shape; returns the pool.

    `concurrency_limit` (runs of the whole pool at once) is set only when given;
    pass 0 to remove a limit set before.
    """
    from prefect.client.orchestration import get_client

    if client is None:
        async with get_client() as own:
            return await aensure_work_pool(name, concurrency_limit=concurrency_limit, client=own)
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    try:
        pool = await client.read_work_pool(name)
    except ObjectNotFound:
        try:
            pool = await client.create_work_pool(
                WorkPoolCreate(
                    name=name,
                    type=POOL_TYPE,
                    description="aichemist-ingest runs; queues high, default, low by priority.",
                    concurrency_limit=concurrency_limit or None,
                )
            )
        except ObjectAlreadyExists:  # created meanwhile by someone else
            pool = await client.read_work_pool(name)
    if pool.type != POOL_TYPE:
        raise ValueError(f"work pool {name!r} exists with type {pool.type!r}, not {POOL_TYPE!r}")
    if concurrency_limit is not None and pool.concurrency_limit != (concurrency_limit or None):
        await client.update_work_pool(
            name, WorkPoolUpdate(concurrency_limit=concurrency_limit or None)
        )
    # The server shifts the other queues when one takes a taken priority, so setting
    # them in priority order leaves exactly 1, 2, 3.
    for queue, priority in QUEUES.items():
        try:
            existing = await client.read_work_queue_by_name(queue, work_pool_name=name)
        except ObjectNotFound:
            try:
                await client.create_work_queue(queue, priority=priority, work_pool_name=name)
                continue
            except ObjectAlreadyExists:
                existing = await client.read_work_queue_by_name(queue, work_pool_name=name)
        if existing.priority != priority:
            await client.update_work_queue(existing.id, priority=priority)
    return await client.read_work_pool(name)


def ensure_work_pool(name: str = POOL_NAME, *, concurrency_limit: int | None = None) -> WorkPool:
    """Synchronous `aensure_work_pool` (for scripts and the command line)."""
    import asyncio

    return asyncio.run(aensure_work_pool(name, concurrency_limit=concurrency_limit))


if __name__ == "__main__":
    pool = ensure_work_pool()
    print(f"work pool {pool.name!r} ({pool.type}) with queues {', '.join(QUEUES)}")
