"""What the store knows of a site's earlier crawls, read once per crawl: each stored
page's validators and outgoing links, the pages the job being resumed already stored,
and each sitemap's validators and URLs. A page or sitemap that answers 304 (or fails
now) is followed through what it linked to on its last successful fetch."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ...freshness import needs_reprocessing
from ...store.base import StoredLinks, StoredState
from .crawler import validators_from_fingerprint

PAGE = "page"


@dataclass(frozen=True, slots=True)
class DonePage:
    """A page an earlier run of the same job already stored: its fingerprint and links."""

    fingerprint: str
    links: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredSitemap:
    """A sitemap as last fetched: its kind (urlset or sitemapindex), the ETag or
    Last-Modified it came with, and the URLs it listed."""

    kind: str
    fingerprint: str | None
    urls: tuple[str, ...]

    @property
    def validators(self) -> tuple[str | None, str | None]:
        return validators_from_fingerprint(self.fingerprint)


@dataclass(frozen=True, slots=True)
class _Page:
    fingerprint: str
    done: bool
    links: tuple[str, ...] | None
    # False for a page whose document another processor version made: it is fetched
    # in full, so that it can be processed again.
    conditional: bool


class CrawlMemory:
    """Lookups over the stored state of one web source. Memory is bounded by the
    source's stored pages times their links (at most `MAX_LINKS` each); a URL that
    appears on many pages (navigation) is held once."""

    def __init__(
        self, states: Iterable[StoredState], links: Iterable[StoredLinks], job_id: str | None
    ) -> None:
        self._pages: dict[str, _Page] = {}
        self._sitemaps: dict[str, StoredSitemap] = {}
        shared: dict[str, str] = {}
        page_links: dict[str, tuple[str | None, tuple[str, ...]]] = {}
        for record in links:
            urls = tuple(map(shared.setdefault, record.links, record.links))
            if record.kind == PAGE:
                page_links[record.url] = (record.fingerprint, urls)
            else:
                self._sitemaps[record.url] = StoredSitemap(record.kind, record.fingerprint, urls)
        for state in states:
            if state.deleted or not state.fingerprint:
                continue
            found = page_links.get(state.uri)
            # Links written with another fingerprint belong to another version of the page.
            known = found[1] if found is not None and found[0] == state.fingerprint else None
            done = job_id is not None and state.job_id == job_id
            self._pages[state.uri] = _Page(
                state.fingerprint, done, known, conditional=not needs_reprocessing(state)
            )

    def validators(self, url: str) -> tuple[str | None, str | None] | None:
        page = self._pages.get(url)
        if page is None or not page.conditional:
            return None
        return validators_from_fingerprint(page.fingerprint)

    def links(self, url: str) -> tuple[str, ...] | None:
        """The stored links of a live page; None when they are not known."""
        page = self._pages.get(url)
        return None if page is None else page.links

    def done(self, url: str) -> DonePage | None:
        """A page the job being resumed stored, with known links (else it is fetched)."""
        page = self._pages.get(url)
        if page is None or not page.done or page.links is None:
            return None
        return DonePage(page.fingerprint, page.links)

    def is_stored(self, url: str) -> bool:
        return url in self._pages

    def sitemap(self, url: str) -> StoredSitemap | None:
        return self._sitemaps.get(url)
