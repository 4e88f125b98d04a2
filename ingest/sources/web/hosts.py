"""Politeness per host: at most N requests in flight and a minimum delay between request starts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class _Host:
    __slots__ = ("semaphore", "lock", "delay", "next_start")

    def __init__(self, concurrency: int, delay: float) -> None:
        self.semaphore = asyncio.Semaphore(concurrency)
        self.lock = asyncio.Lock()
        self.delay = delay
        self.next_start = 0.0


class HostLimiter:
    """Grants request slots per host (origin); `slot` spaces request starts by the host's delay."""

    def __init__(self, *, concurrency: int, delay: float) -> None:
        self._concurrency = concurrency
        self._delay = delay
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

    def delay_of(self, host: str) -> float:
        return self._get(host).delay

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        state = self._get(host)
        async with state.semaphore:
            if state.delay > 0 or state.next_start > 0:
                async with state.lock:
                    wait = state.next_start - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    state.next_start = time.monotonic() + state.delay
            yield
