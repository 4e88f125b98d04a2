"""The crawl frontier: which URLs get fetched, in breadth-first order, within the depth and page
budgets, each at most once; and the log of every URL refused, with its reason."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from enum import StrEnum

from .urls import Scope


class Kind(StrEnum):
    PAGE = "page"
    SITEMAP = "sitemap"


@dataclass(frozen=True, slots=True)
class Request:
    url: str
    depth: int
    kind: Kind = Kind.PAGE
    referrer: str | None = None
    seed: bool = False


@dataclass(frozen=True, slots=True)
class Refusal:
    """A URL the crawl did not take, and why (`code` is short, `reason` a sentence)."""

    url: str
    code: str
    reason: str
    referrer: str | None = None


OUT_OF_SCOPE = "out-of-scope"
TOO_DEEP = "too-deep"
PAGE_BUDGET = "page-budget"
SITEMAP_BUDGET = "sitemap-budget"
DUPLICATE = "duplicate"
INVALID_URL = "invalid-url"


class Frontier:
    """Admits URLs (normalised by the caller) and hands them out first in, first out.

    Memory is bounded: at most `max_pages` pages and `max_sitemaps` sitemaps are ever
    admitted, and at most `max_refusals_recorded` refusals are kept one by one (beyond
    that only `refusal_counts` grows).
    """

    def __init__(
        self,
        scope: Scope,
        *,
        max_depth: int,
        max_pages: int,
        max_sitemaps: int,
        max_refusals_recorded: int,
    ) -> None:
        self.scope = scope
        self.max_depth = max_depth
        self.max_pages = max_pages
        self.max_sitemaps = max_sitemaps
        self.max_refusals_recorded = max_refusals_recorded
        self._queue: deque[Request] = deque()
        self._admitted: set[str] = set()
        self._recorded: set[str] = set()
        self._refused: set[str] = set()
        self.pages_admitted = 0
        self._released = 0
        self.sitemaps_admitted = 0
        self.refusals: list[Refusal] = []
        self.refusal_counts: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._queue)

    def add(
        self,
        url: str,
        depth: int,
        kind: Kind = Kind.PAGE,
        *,
        referrer: str | None = None,
        seed: bool = False,
    ) -> bool:
        """Queue `url` unless it was seen before or is refused (the refusal is recorded)."""
        if url in self._admitted or url in self._recorded:
            return False
        if kind is Kind.SITEMAP:
            reason = self.scope.sitemap_refusal(url)
        else:
            reason = self.scope.refusal(url)
        if reason is not None:
            self.refuse(url, OUT_OF_SCOPE, reason, referrer)
            return False
        if kind is Kind.SITEMAP:
            if self.sitemaps_admitted >= self.max_sitemaps:
                self.refuse(url, SITEMAP_BUDGET, f"over max_sitemaps={self.max_sitemaps}", referrer)
                return False
            self.sitemaps_admitted += 1
        else:
            if depth > self.max_depth:
                self.refuse(url, TOO_DEEP, f"deeper than max_depth={self.max_depth}", referrer)
                return False
            if self.pages_admitted >= self.max_pages:
                self.refuse(url, PAGE_BUDGET, f"over max_pages={self.max_pages}", referrer)
                return False
            self.pages_admitted += 1
        self._admitted.add(url)
        self._queue.append(Request(url, depth, kind, referrer, seed))
        return True

    def known(self, url: str) -> bool:
        """True when `url` was already admitted or taken."""
        return url in self._admitted or url in self._recorded

    def pop(self) -> Request | None:
        """The next URL to fetch, skipping any that became known through another URL."""
        while self._queue:
            request = self._queue.popleft()
            if request.url not in self._recorded:
                return request
        return None

    def record(self, *urls: str) -> bool:
        """Mark a fetched page's URLs as taken; False when the first was already taken."""
        first = urls[0] not in self._recorded
        self._recorded.update(urls)
        return first

    def release(self, request: Request) -> None:
        """Give back the budget of an admitted URL that was refused before any request
        (robots.txt, private address); at most 10 x max_pages times, to stay bounded."""
        if request.kind is Kind.PAGE and self._released < 10 * self.max_pages:
            self._released += 1
            self.pages_admitted -= 1

    def refuse(self, url: str, code: str, reason: str, referrer: str | None = None) -> None:
        """Record a refusal; a URL is counted once while refusals are still being recorded."""
        if url in self._refused:
            return
        self.refusal_counts[code] += 1
        if len(self.refusals) < self.max_refusals_recorded:
            self._refused.add(url)
            self.refusals.append(Refusal(url, code, reason, referrer))
