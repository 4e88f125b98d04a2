"""robots.txt per origin (RFC 9309, parsed by protego): fetched once, cached, then asked per URL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from protego import Protego

from ...errors import SourceAccessError

MAX_ROBOTS_BYTES = 512 * 1024


@dataclass(frozen=True)
class RobotsResponse:
    status: int
    body: bytes


@dataclass
class RobotsRules:
    """What one origin's robots.txt says to our agent."""

    origin: str
    parser: Protego | None = None
    disallow_all_reason: str | None = None
    sitemaps: list[str] = field(default_factory=list)
    crawl_delay: float | None = None

    def refusal(self, url: str, agent: str) -> str | None:
        """Why robots.txt forbids `url`, or None when it allows it."""
        if self.disallow_all_reason is not None:
            return self.disallow_all_reason
        if self.parser is None or self.parser.can_fetch(url, agent):
            return None
        return "disallowed by robots.txt"


def parse_robots(origin: str, body: bytes, agent: str) -> RobotsRules:
    text = body[:MAX_ROBOTS_BYTES].decode("utf-8", "replace")
    parser = Protego.parse(text)
    delay = parser.crawl_delay(agent)
    rate = parser.request_rate(agent)
    if rate is not None and rate.requests:
        per_request = rate.seconds / rate.requests
        delay = max(delay or 0.0, per_request)
    return RobotsRules(
        origin=origin,
        parser=parser,
        sitemaps=list(parser.sitemaps),
        crawl_delay=float(delay) if delay is not None else None,
    )


def rules_for_response(origin: str, response: RobotsResponse, agent: str) -> RobotsRules:
    """RFC 9309 section 2.3.1: 2xx is parsed, 4xx allows everything, anything else
    (5xx, which is only seen after retries) disallows everything for this crawl."""
    if 200 <= response.status < 300:
        return parse_robots(origin, response.body, agent)
    if 400 <= response.status < 500:
        return RobotsRules(origin=origin)
    return RobotsRules(
        origin=origin,
        disallow_all_reason=f"robots.txt unavailable (HTTP {response.status}); "
        "the origin is treated as fully disallowed",
    )


RobotsFetcher = Callable[[str], Awaitable[RobotsResponse]]


class RobotsCache:
    """One RobotsRules per origin, fetched at most once even under concurrent asks."""

    def __init__(self, fetch: RobotsFetcher, agent: str) -> None:
        self._fetch = fetch
        self.agent = agent
        self._rules: dict[str, asyncio.Future[RobotsRules]] = {}

    async def rules(self, origin: str) -> RobotsRules:
        future = self._rules.get(origin)
        if future is None:
            future = asyncio.ensure_future(self._load(origin))
            self._rules[origin] = future
        return await asyncio.shield(future)

    def failures(self) -> dict[str, str]:
        """Origins whose robots.txt could not be read (a server error or no answer), so
        this crawl treated them as fully disallowed: origin -> reason."""
        found: dict[str, str] = {}
        for origin in self._rules:
            rules = self.cached(origin)
            if rules is not None and rules.disallow_all_reason is not None:
                found[origin] = rules.disallow_all_reason
        return found

    def cached(self, origin: str) -> RobotsRules | None:
        future = self._rules.get(origin)
        if future is None or not future.done() or future.cancelled():
            return None
        return future.result()

    async def _load(self, origin: str) -> RobotsRules:
        try:
            response = await self._fetch(origin + "/robots.txt")
        except SourceAccessError as exc:
            return RobotsRules(
                origin=origin,
                disallow_all_reason=f"robots.txt unavailable ({exc.reason}); "
                "the origin is treated as fully disallowed",
            )
        return rules_for_response(origin, response, self.agent)
