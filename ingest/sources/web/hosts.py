"""Politeness per host: at most N requests in flight and a minimum delay between request starts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol


class SharedHostLimits(Protocol):
    """Per-host limits that other crawls (other processes, other machines) obey too.

    `slot` holds one of the host's shared request slots for one request and, with a
    `delay`, first waits until the host's request rate across all crawls allows one more
    (one per `delay`): it paces the crawl's requests to the host in place of the
    crawl's own delay. The crawl's own concurrency limit applies first."""

    def slot(self, host: str, delay: float) -> AbstractAsyncContextManager[None]: ...


class _Host:
    __slots__ = ("semaphore", "lock", "delay", "next_start")

    def __init__(self, concurrency: int, delay: float) -> None:
        self.semaphore = asyncio.Semaphore(concurrency)
        self.lock = asyncio.Lock()
        self.delay = delay
        self.next_start = 0.0


class HostLimiter:
    """Grants request slots per host (origin); `slot` spaces request starts by the host's delay."""

    def __init__(
        self, *, concurrency: int, delay: float, shared: SharedHostLimits | None = None
    ) -> None:
        self._concurrency = concurrency
        self._delay = delay
        self._shared = shared
        self._hosts: dict[str, _Host] = {}

    def _get(self, host: str) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Host(self._concurrency, self._delay)
        return state

    def raise_delay(self, host: str, delay: float) -> None:
        """Use at least `delay` seconds between requests to `host` (robots.txt Crawl-delay)."""
        state = self._get(host)
        state.delay = max(state.delay, delay)

    def defer(self, host: str, seconds: float) -> None:
        """Start no request to `host` in the next `seconds` (a 429/503 Retry-After)."""
        state = self._get(host)
        state.next_start = max(state.next_start, time.monotonic() + seconds)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        state = self._get(host)
        # With shared limits, the shared slot spaces request starts (across all crawls).
        pace = state.delay if self._shared is None else 0.0
        async with state.semaphore:
            if pace > 0 or state.next_start > 0:
                async with state.lock:
                    wait = state.next_start - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    state.next_start = time.monotonic() + pace
            if self._shared is None:
                yield
            else:
                async with self._shared.slot(host, state.delay):
                    yield
