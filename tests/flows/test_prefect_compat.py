"""Each private Prefect call the project relies on, exercised for real: when a Prefect
release changes one, the failing test names it (see flows/adapters/_prefect_compat.py)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from prefect import flow
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterId
from prefect.filesystems import LocalFileSystem

from flows.adapters._prefect_compat import (
    acquire_slots_with_lease,
    call_sync,
    end_runs_without_joining_heartbeats,
    release_slots_with_lease,
    saved_block_id,
)

pytestmark = pytest.mark.prefect


def test_saved_block_id_is_none_in_memory_and_the_id_once_saved(
    prefect_api: str, tmp_path: Path
) -> None:
    block = LocalFileSystem(basepath=str(tmp_path))
    assert saved_block_id(block) is None
    block_id = block.save(f"compat-{uuid4().hex[:8]}")
    assert isinstance(saved_block_id(block), UUID)
    assert saved_block_id(block) == block_id


def test_call_sync_creates_and_updates_an_artifact_inside_an_async_flow(prefect_api: str) -> None:
    @flow
    async def reports_progress() -> tuple[object, object]:
        created = call_sync(create_progress_artifact, progress=0.0, key="compat-progress")
        updated = call_sync(update_progress_artifact, artifact_id=created, progress=50.0)
        return created, updated

    created, updated = asyncio.run(reports_progress())
    assert isinstance(created, UUID), "the call returned a coroutine: _sync was ignored"
    assert isinstance(updated, UUID)

    async def progress_of(artifact_id: UUID) -> object:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(id=ArtifactFilterId(any_=[artifact_id]))
            )
        return found[0].data

    assert asyncio.run(progress_of(created)) == 50.0


def test_leased_slots_are_taken_and_given_back(prefect_api: str) -> None:
    name = f"compat-limit-{uuid4().hex[:8]}"

    async def scenario() -> tuple[UUID | None, int, int, UUID | None]:
        async with get_client() as client:
            await client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=name, limit=2)
            )
            lease = await acquire_slots_with_lease(name, slots=1, lease_seconds=60, holder=None)
            held = (await client.read_global_concurrency_limit_by_name(name)).active_slots
            assert lease is not None
            await release_slots_with_lease(lease)
            after = (await client.read_global_concurrency_limit_by_name(name)).active_slots
            missing = await acquire_slots_with_lease(
                name + "-missing", slots=1, lease_seconds=60, holder=None
            )
            return lease, held, after, missing

    lease, held, after, missing = asyncio.run(scenario())
    assert isinstance(lease, UUID)
    assert (held, after) == (1, 0)
    assert missing is None, "a missing limit must not block or raise"


class _HeartbeatingEngine:
    """What Prefect's `_send_heartbeats` reads of a flow run engine."""

    heartbeat_seconds = 30
    flow_run = None
    logger = logging.getLogger("test-heartbeats")

    def __init__(self) -> None:
        self.sent: list[object] = []

    def _build_heartbeat_event_template(self) -> tuple[dict[str, str], list[object]]:
        return {"prefect.resource.id": "test"}, []

    def _emit_flow_run_heartbeat(self, resource: object, related: object) -> None:
        self.sent.append(resource)


def test_a_sync_run_ends_without_joining_its_heartbeat_thread() -> None:
    from prefect import flow_engine

    end_runs_without_joining_heartbeats()
    end_runs_without_joining_heartbeats()  # once is enough; twice wraps nothing twice
    engine = _HeartbeatingEngine()
    before = set(threading.enumerate())
    with flow_engine._send_heartbeats(engine):  # type: ignore[arg-type]
        deadline = time.monotonic() + 5
        while not engine.sent and time.monotonic() < deadline:
            time.sleep(0.01)
    heartbeat_threads = [t for t in set(threading.enumerate()) - before if t.daemon]
    assert engine.sent == [{"prefect.resource.id": "test"}]
    assert heartbeat_threads, "the run waited for its heartbeat thread to end"
    for thread in heartbeat_threads:
        thread.join(timeout=3)
        assert not thread.is_alive()
    assert len(engine.sent) == 1  # nothing sent after the run ended
