"""The settings of a web crawl: what to fetch, how far, how politely and how safely."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ... import __version__
from ...errors import ConfigurationError
from ...form_fields import OptionalText

DEFAULT_USER_AGENT = f"aichemist-ingest/{__version__} (+https://example.invalid/bot)"


class WebSourceConfig(BaseModel):
    """What to crawl and how; every limit has a safe default."""

    model_config = ConfigDict(extra="forbid")

    seeds: list[str] = Field(
        min_length=1,
        description="Start URLs: pages, or sitemaps (urlset or sitemapindex, gzipped or not), "
        "recognised by their content.",
    )
    sitemaps: list[str] = Field(
        default=[],
        description="Sitemap URLs (urlset or sitemapindex, gzipped or not) read to discover "
        "pages. Sitemaps are checked against the allowed hosts (and their own hosts) only, "
        "not against URL prefixes or patterns; the pages they list are checked in full.",
    )
    allowed_domains: list[str] = Field(
        default=[],
        description="Hosts that are in scope; empty means the hosts of the seeds.",
    )
    include_subdomains: bool = Field(
        default=False, description="Subdomains of an allowed host are in scope too."
    )
    url_prefixes: list[str] = Field(
        default=[],
        description="When set, only URLs starting with one of these (normalised) are in scope.",
    )
    allow_patterns: list[str] = Field(
        default=[],
        description="When set, only URLs matching one of these regular expressions are in scope.",
    )
    deny_patterns: list[str] = Field(
        default=[],
        description="URLs matching any of these regular expressions are out of scope.",
    )
    max_depth: int = Field(
        default=5, ge=0, description="Links followed from a seed; 0 fetches the seeds only."
    )
    max_pages: int = Field(
        default=10_000,
        ge=1,
        description="Pages admitted to the crawl at most (this also bounds its memory).",
    )
    max_sitemaps: int = Field(default=1_000, ge=0, description="Sitemap files fetched at most.")
    max_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1,
        description="Largest body accepted, counted after decompression; larger ones are cut.",
    )
    max_sitemap_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1,
        description="Largest sitemap accepted, counted after decompression.",
    )
    max_redirects: int = Field(default=10, ge=0, description="Redirects followed per request.")
    connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to connect.")
    read_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds to wait for data between two reads (--read-timeout); a page "
        "that exceeds it is retried, then failed with the timeout and the attempts.",
    )
    write_timeout: float = Field(default=30.0, gt=0, description="Seconds to send the request.")
    pool_timeout: float = Field(
        default=30.0, gt=0, description="Seconds to wait for a free connection."
    )
    request_deadline: float = Field(
        default=120.0,
        gt=0,
        description="Seconds one attempt may take in all, body included (--timeout); a "
        "page that exceeds it is retried, then failed with the timeout and the attempts.",
    )
    max_retries: int = Field(
        default=3,
        ge=0,
        description="Retries after a timeout, a connection error, a 429 or a 5xx.",
    )
    backoff_base: float = Field(
        default=0.5, ge=0, description="Seconds of the first backoff; doubled on each retry."
    )
    backoff_max: float = Field(
        default=30.0, ge=0, description="Longest backoff between two attempts, in seconds."
    )
    max_retry_after: float = Field(
        default=120.0,
        ge=0,
        description="Longest Retry-After honoured, in seconds; a longer one fails the URL.",
    )
    per_host_delay: float = Field(
        default=0.0,
        ge=0,
        description="Minimum seconds between two requests to the same host "
        "(robots.txt Crawl-delay raises it).",
    )
    max_crawl_delay: float = Field(
        default=30.0,
        ge=0,
        description="Largest robots.txt Crawl-delay obeyed, in seconds.",
    )
    per_host_concurrency: int = Field(
        default=8, ge=1, description="Requests in flight to one host at most."
    )
    concurrency: int = Field(default=32, ge=1, description="Requests in flight in all at most.")
    http_backend: Literal["auto", "httpx", "aiohttp"] = Field(
        default="auto",
        description="Transport under the httpx API: httpx's own, or aiohttp's (faster) "
        "through httpx-aiohttp; auto takes aiohttp when it is installed.",
    )
    user_agent: str = Field(
        default=DEFAULT_USER_AGENT, min_length=1, description="The User-Agent header sent."
    )
    robots_agent: OptionalText = Field(
        default="",
        description="The product token matched against robots.txt groups; "
        "default: the User-Agent's first word without its version.",
    )
    ignore_robots: bool = Field(
        default=False, description="Do not read or obey robots.txt. Use only with permission."
    )
    allow_private_network: bool = Field(
        default=False,
        description="Allow private, loopback, link-local and reserved addresses "
        "(needed to crawl a local server).",
    )
    sorted_query: bool = Field(
        default=False,
        description="Sort query parameters when normalising URLs (a=1&b=2 equals b=2&a=1).",
    )
    respect_nofollow: bool = Field(
        default=False,
        description="Skip links marked rel=nofollow and pages whose robots meta says nofollow.",
    )
    sitemaps_from_robots: bool = Field(
        default=False, description="Also read the sitemaps listed in robots.txt."
    )
    max_refusals_recorded: int = Field(
        default=10_000,
        ge=0,
        description="Refused URLs recorded one by one; beyond this only their counts are kept.",
    )

    @field_validator("allow_patterns", "deny_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
        return patterns

    @property
    def agent_token(self) -> str:
        if self.robots_agent:
            return self.robots_agent
        return self.user_agent.split()[0].split("/")[0]

    def check(self) -> None:
        """Raise ConfigurationError unless every seed and sitemap is an http(s) URL."""
        from .urls import normalize_url

        for kind, urls in (("seed", self.seeds), ("sitemap", self.sitemaps)):
            for url in urls:
                if normalize_url(url) is None:
                    raise ConfigurationError(
                        f"{kind} {url!r} is not an http or https URL", details={kind: url}
                    )
