"""Per-host request limits kept in Prefect, so that they bind every crawl on one Prefect API.

Each host (`host[:port]`) gets global limits, created when missing (Prefect silently
skips a limit that does not exist) and set to the crawl's own settings when it starts
using the host, so crawls running at the same time share the latest settings:

- `ingest-web-rate:HOST`, when the crawl has a per-host delay (`--rate`, `--delay`,
  a robots.txt Crawl-delay): one request start per delay across all crawls. It is a
  Prefect rate limit of N slots decaying at one per `delay`, N covering about half a
  second of requests: a crawl takes the N slots at once and spends them on N requests
  spaced by `delay`, so a request rarely costs an API call. It asks again only once
  the N slots have decayed, so alone it is never refused and keeps its rate; crawls
  that contend are refused and retry after the server's Retry-After, which keeps them
  under the rate, less evenly. Decaying slots need no release: a crawl that dies
  holds nothing.
- `ingest-web-concurrency:HOST`: requests in flight to the host across all crawls. A
  crawl leases a slot and keeps it for more requests to that host for up to
  `hold_seconds` (so a request costs no API call), and gives back a slot idle for
  `idle_seconds`. A lease outlives the longest request. The leases a crawl holds are
  listed in a Prefect variable named after its job, so the next run of the job (a
  retry, a resume) gives back at once the slots of a run that died; a Prefect
  server's repossessor also returns them when the leases expire. The ephemeral API
  keeps leases in its own memory, lost with it, and runs no repossessor, so a crash
  would hold the slots for good: there, only the rate limit is shared.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
)
from prefect.client.schemas.objects import ConcurrencyLeaseHolder
from prefect.concurrency.asyncio import rate_limit
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.settings import get_current_settings
from prefect.variables import Variable

from ingest.sources.web import WebSourceConfig

from ._prefect_compat import acquire_slots_with_lease, release_slots_with_lease

RATE_PREFIX = "ingest-web-rate:"
RATE_CHUNK_SECONDS = 0.5
CONCURRENCY_PREFIX = "ingest-web-concurrency:"


def limit_key(origin: str) -> str:
    """The host part of a limit's name: `host[:port]`, lower-case, never a user name or
    password (a name may not contain '/')."""
    parts = urlsplit(origin)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{parts.port}" if parts.port else host


def leases_are_safe() -> bool:
    """Whether leased slots come back after a crash: only a Prefect server (an API URL
    is set) expires leases; the ephemeral API keeps them in its process memory."""
    return bool(get_current_settings().api.url)


@dataclass
class _Lease:
    id: UUID | None  # None: the limit was deleted, nothing to give back
    taken: float
    idle_since: float = 0.0


@dataclass
class _Host:
    key: str
    ready: asyncio.Lock = field(default_factory=asyncio.Lock)
    pacing: asyncio.Lock = field(default_factory=asyncio.Lock)
    rate_delay: float = 0.0
    rate_chunk: int = 1
    rate_tokens: int = 0
    next_chunk: float = 0.0
    next_start: float = 0.0
    concurrency_set: bool = False
    idle: list[_Lease] = field(default_factory=list)


class LeaseLedger:
    """The concurrency leases a job's crawl holds, kept in a Prefect variable: a killed
    process cannot give its slots back, the next run of its job can."""

    def __init__(self, job_id: str) -> None:
        self.name = "ingest-web-leases-" + re.sub(r"[^A-Za-z0-9_-]", "-", job_id)[:200]
        self._held: set[UUID] = set()
        self._lock = asyncio.Lock()

    async def recover(self) -> int:
        """Give back the leases an earlier run of the job left; how many there were."""
        left: object = await Variable.aget(self.name, default=None)  # type: ignore[func-returns-value]
        stale: list[str] = [str(lease_id) for lease_id in left] if isinstance(left, list) else []
        for lease_id in stale:
            try:
                await release_slots_with_lease(UUID(lease_id))
            except Exception:  # noqa: BLE001, S112 - expired or revoked already
                continue
        if left is not None:
            await Variable.aunset(self.name)
        return len(stale)

    async def hold(self, lease_id: UUID) -> None:
        self._held.add(lease_id)
        await self._save()

    async def drop(self, lease_id: UUID) -> None:
        self._held.discard(lease_id)
        await self._save()

    async def _save(self) -> None:
        async with self._lock:
            if self._held:
                held = sorted(str(lease_id) for lease_id in self._held)
                await Variable.aset(self.name, held, overwrite=True)
            else:
                await Variable.aunset(self.name)


class PrefectHostLimits:
    """`SharedHostLimits` on Prefect global concurrency limits; close with `aclose`."""

    def __init__(
        self,
        config: WebSourceConfig,
        *,
        holder: UUID | None = None,
        share_concurrency: bool | None = None,
        hold_seconds: float = 5.0,
        idle_seconds: float = 1.0,
    ) -> None:
        self._concurrency = config.per_host_concurrency
        self._share_concurrency = (
            leases_are_safe() if share_concurrency is None else share_concurrency
        )
        self._holder = ConcurrencyLeaseHolder(type="flow_run", id=holder) if holder else None
        self._lease_seconds = max(60.0, hold_seconds + config.request_deadline + 30.0)
        self._hold_seconds = hold_seconds
        self._idle_seconds = idle_seconds
        self._hosts: dict[str, _Host] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._ledger: LeaseLedger | None = None

    async def start(self, job_id: str) -> None:
        """Bind the crawl to its job, and give back the slots a dead run of it held."""
        if self._share_concurrency:
            self._ledger = LeaseLedger(job_id)
            await self._ledger.recover()

    @asynccontextmanager
    async def slot(self, host: str, delay: float) -> AsyncIterator[None]:
        state = self._hosts.get(host)
        if state is None:  # once per host: nothing is allocated per request
            state = self._hosts[host] = _Host(key=limit_key(host))
        key = state.key
        if delay > 0:
            await self._pace(key, state, delay)
        if not self._share_concurrency:
            yield
            return
        lease = await self._take(key, state)
        try:
            yield
        finally:
            await self._give_back(lease, state)

    async def aclose(self) -> None:
        """Give back every slot this crawl holds."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        leases = [lease for state in self._hosts.values() for lease in state.idle]
        for state in self._hosts.values():
            state.idle.clear()
        await asyncio.gather(*(self._release(lease) for lease in leases))

    async def _pace(self, key: str, state: _Host, delay: float) -> None:
        async with state.pacing:
            if state.rate_delay != delay:
                state.rate_chunk = max(1, int(RATE_CHUNK_SECONDS / delay))
                await _upsert_limit(RATE_PREFIX + key, limit=state.rate_chunk, decay=1 / delay)
                state.rate_delay, state.rate_tokens = delay, 0
            if state.rate_tokens == 0:
                # Asking before the slots decayed would be refused, and a refusal
                # restarts the decay on the server: wait until they have.
                await _sleep_until(state.next_chunk)
                await rate_limit(RATE_PREFIX + key, occupy=state.rate_chunk)
                state.rate_tokens = state.rate_chunk
                state.next_chunk = time.monotonic() + state.rate_chunk * delay
            await _sleep_until(state.next_start)
            state.rate_tokens -= 1
            state.next_start = time.monotonic() + delay

    async def _take(self, key: str, state: _Host) -> _Lease:
        if not state.concurrency_set:
            async with state.ready:
                if not state.concurrency_set:
                    await _upsert_limit(CONCURRENCY_PREFIX + key, limit=self._concurrency)
                    state.concurrency_set = True
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep())
        while state.idle:
            lease = state.idle.pop()
            if time.monotonic() - lease.taken < self._hold_seconds:
                return lease
            await self._release(lease)
        lease_id = await acquire_slots_with_lease(
            CONCURRENCY_PREFIX + key,
            slots=1,
            lease_seconds=self._lease_seconds,
            holder=self._holder,
        )
        lease = _Lease(id=lease_id, taken=time.monotonic())
        if lease.id is not None and self._ledger is not None:
            await self._ledger.hold(lease.id)
        return lease

    async def _give_back(self, lease: _Lease, state: _Host) -> None:
        now = time.monotonic()
        if now - lease.taken >= self._hold_seconds:
            await self._release(lease)
        else:
            lease.idle_since = now
            state.idle.append(lease)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self._idle_seconds / 2)
            now = time.monotonic()
            for state in self._hosts.values():
                stale = [
                    lease for lease in state.idle if now - lease.idle_since >= self._idle_seconds
                ]
                if stale:
                    state.idle[:] = [lease for lease in state.idle if lease not in stale]
                    await asyncio.gather(*(self._release(lease) for lease in stale))

    async def _release(self, lease: _Lease) -> None:
        if lease.id is None:
            return
        # Shielded: a crawl being cancelled still gives its slot back.
        await asyncio.shield(release_slots_with_lease(lease.id))
        if self._ledger is not None:
            await asyncio.shield(self._ledger.drop(lease.id))


async def _sleep_until(moment: float) -> None:
    wait = moment - time.monotonic()
    if wait > 0:
        await asyncio.sleep(wait)


async def _upsert_limit(name: str, *, limit: int, decay: float = 0.0) -> None:
    """Create the global limit `name`, or set its size and decay when they differ."""
    async with get_client() as client:
        try:
            current = await client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            try:
                await client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(
                        name=name, limit=limit, slot_decay_per_second=decay
                    )
                )
                return
            except ObjectAlreadyExists:  # another crawl created it meanwhile
                current = await client.read_global_concurrency_limit_by_name(name)
        if current.limit != limit or current.slot_decay_per_second != decay or not current.active:
            await client.update_global_concurrency_limit(
                name,
                GlobalConcurrencyLimitUpdate(limit=limit, slot_decay_per_second=decay, active=True),
            )
