"""The only module that touches Prefect's private API.

Each function here wraps one private call this project relies on, so a Prefect
release that changes it breaks in one place, and `tests/flows/test_prefect_compat.py`
says which. The `prefect` requirement in `pyproject.toml` is bounded below the next
minor release; to raise the bound, install the new release, run that test module
and the suite, and adapt the wrappers here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from uuid import UUID

from prefect.blocks.core import Block
from prefect.client.schemas.objects import ConcurrencyLeaseHolder
from prefect.client.schemas.responses import ConcurrencyLimitWithLeaseResponse
from prefect.concurrency._asyncio import (
    aacquire_concurrency_slots_with_lease,
    arelease_concurrency_slots_with_lease,
)

T = TypeVar("T")


async def acquire_slots_with_lease(
    name: str, *, slots: int, lease_seconds: float, holder: ConcurrencyLeaseHolder | None
) -> UUID | None:
    """Take `slots` of the global concurrency limit `name` under a lease, without
    Prefect's per-call context manager (so a caller can pool the lease); the lease id,
    or None when no such limit exists."""
    response: ConcurrencyLimitWithLeaseResponse = await aacquire_concurrency_slots_with_lease(
        names=[name],
        slots=slots,
        lease_duration=lease_seconds,
        holder=holder,
        suppress_warnings=True,
    )
    return response.lease_id if response.limits else None


async def release_slots_with_lease(lease_id: UUID) -> None:
    """Give back the slots held under `lease_id`."""
    await arelease_concurrency_slots_with_lease(lease_id)


def saved_block_id(block: Block) -> UUID | None:
    """The id of the server-side document of a block loaded or saved through the API,
    None for a block built in memory (Prefect reads a result back through that id)."""
    block_id: UUID | None = block._block_document_id
    return block_id


def call_sync(function: Callable[..., Any], /, **kwargs: Any) -> Any:
    """Call one of Prefect's dual sync/async API functions (`create_progress_artifact`,
    ...) synchronously, even inside an async flow, where the plain call would return an
    un-awaited coroutine and silently do nothing."""
    return function(**kwargs, _sync=True)


def end_runs_without_joining_heartbeats() -> None:
    """Let a synchronous flow run end without waiting for its heartbeat thread.

    Prefect's heartbeat thread sleeps in one-second steps and the sync engine joins it,
    so every sync flow run ends up to a second late (a CLI call waits half a second on
    average); the async engine does not join. The thread is a daemon that sends nothing
    once the run has ended and returns at its next step."""
    from prefect import flow_engine

    original = flow_engine._send_heartbeats
    if getattr(original, "without_join", False):
        return

    @contextmanager
    def send_heartbeats(engine: Any, join_on_exit: bool = True) -> Iterator[None]:
        with original(engine, join_on_exit=False):
            yield

    send_heartbeats.without_join = True  # type: ignore[attr-defined]
    flow_engine._send_heartbeats = send_heartbeats
