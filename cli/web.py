"""`ingest web URL...`: a site through the `ingest-web` flow."""

from __future__ import annotations

import asyncio
import re
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ingest.errors import ConfigurationError, IngestError

from .app import app, fail_usage
from .common import (
    BatchSizeOption,
    CustomValidatorOption,
    FullOption,
    JsonOption,
    MaxDeleteShareOption,
    MaxRejectedShareOption,
    ResultStorageOption,
    SchemaOption,
    SkipValidatorOption,
    StoreOption,
    StrictOption,
    ValidatorOption,
    VerboseOption,
    WorkersOption,
    run_and_exit,
    run_options,
    usage_errors,
)
from .options import parse_size
from .quiet import quiet_prefect

if TYPE_CHECKING:
    from ingest.sources.web import WebSourceConfig


class CrawlScope(StrEnum):
    """Which URLs a crawl may follow (`--scope`)."""

    host = "host"
    domain = "domain"
    prefix = "prefix"


# The site options, shared by `ingest web` and `ingest submit web`.
SeedsArgument = Annotated[
    list[str], typer.Argument(metavar="URL", help="Seed pages or sitemaps (http or https).")
]
ScopeOption = Annotated[
    CrawlScope,
    typer.Option(
        "--scope",
        case_sensitive=False,
        help="host: the seeds' hosts; domain: also their subdomains; prefix: only URLs "
        "under each seed's directory.",
    ),
]
DomainOption = Annotated[
    list[str] | None,
    typer.Option("--domain", metavar="HOST", help="Also crawl this host (repeatable)."),
]
PrefixOption = Annotated[
    list[str] | None,
    typer.Option(
        "--prefix",
        metavar="URL",
        help="Only URLs under this prefix (repeatable; replaces the seeds' directories "
        "of --scope prefix).",
    ),
]
IncludeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--include", "--allow", metavar="RE", help="Only URLs matching this regex (repeatable)."
    ),
]
ExcludeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude", "--deny", metavar="RE", help="Skip URLs matching this regex (repeatable)."
    ),
]
MaxDepthOption = Annotated[int, typer.Option("--max-depth", help="Link hops from a seed.")]
MaxPagesOption = Annotated[int, typer.Option("--max-pages", help="Pages fetched at most.")]
MaxResponseSizeOption = Annotated[
    str,
    typer.Option(
        "--max-response-size",
        "--max-size",
        metavar="SIZE",
        help="Largest response body (e.g. 20MB); larger ones are cut.",
    ),
]
RateOption = Annotated[
    float | None,
    typer.Option("--rate", metavar="R", help="Requests per second to one host at most."),
]
DelayOption = Annotated[
    float,
    typer.Option(
        "--delay",
        metavar="SECONDS",
        help="Seconds between requests to one host (with --rate, the slower wins).",
    ),
]
HostConcurrencyOption = Annotated[
    int,
    typer.Option("--concurrency", min=1, help="Requests in flight to one host at most."),
]
RequestsOption = Annotated[
    int, typer.Option("--requests", min=1, help="Requests in flight in all at most.")
]
BatchConcurrencyOption = Annotated[
    int,
    typer.Option("--batch-concurrency", min=1, max=64, help="Batches in flight at once."),
]
IgnoreRobotsOption = Annotated[
    bool, typer.Option("--ignore-robots", help="Do not obey robots.txt (on purpose only).")
]
SitemapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--sitemap", metavar="URL", help="Also discover pages from this sitemap (repeatable)."
    ),
]
AllowPrivateNetworkOption = Annotated[
    bool,
    typer.Option(
        "--allow-private-network", help="Allow private, loopback and link-local addresses."
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        help="Seconds one attempt at a page may take in all, body included; a page that "
        "exceeds it on every attempt is failed.",
    ),
]
ReadTimeoutOption = Annotated[
    float,
    typer.Option(
        "--read-timeout",
        metavar="SECONDS",
        help="Seconds to wait for data between two reads.",
    ),
]
AuthOption = Annotated[
    str | None,
    typer.Option(
        "--auth",
        metavar="BLOCK",
        help="Credentials block to send to the seeds' origins (see `ingest auth`).",
    ),
]


@app.command("web")
def ingest_site(
    urls: SeedsArgument,
    max_depth: MaxDepthOption = 5,
    max_pages: MaxPagesOption = 10_000,
    scope: ScopeOption = CrawlScope.host,
    domain: DomainOption = None,
    prefix: PrefixOption = None,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    rate: RateOption = None,
    delay: DelayOption = 0.0,
    concurrency: HostConcurrencyOption = 8,
    requests: RequestsOption = 16,
    ignore_robots: IgnoreRobotsOption = False,
    sitemap: SitemapOption = None,
    allow_private_network: AllowPrivateNetworkOption = False,
    max_response_size: MaxResponseSizeOption = "20MB",
    timeout: TimeoutOption = 120.0,
    read_timeout: ReadTimeoutOption = 30.0,
    auth: AuthOption = None,
    batch_size: BatchSizeOption = 50,
    batch_concurrency: BatchConcurrencyOption = 2,
    workers: WorkersOption = 1,
    full: FullOption = False,
    strict: StrictOption = False,
    schema: SchemaOption = None,
    validator: ValidatorOption = None,
    skip_validator: SkipValidatorOption = None,
    custom_validator: CustomValidatorOption = None,
    max_rejected_share: MaxRejectedShareOption = None,
    max_delete_share: MaxDeleteShareOption = 0.5,
    store: StoreOption = None,
    result_storage: ResultStorageOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Crawl a site and ingest its pages through the `ingest-web` flow."""
    with usage_errors():
        options = run_options(
            local=True,
            store=store,
            batch_size=batch_size,
            concurrency=batch_concurrency,
            workers=workers,
            full=full,
            strict=strict,
            schema=schema,
            validator=validator,
            skip_validator=skip_validator,
            custom_validator=custom_validator,
            max_rejected_share=max_rejected_share,
            max_delete_share=max_delete_share,
            result_storage=result_storage,
        )
        site = web_site(
            urls,
            scope=scope,
            domain=domain,
            prefix=prefix,
            include=include,
            exclude=exclude,
            max_depth=max_depth,
            max_pages=max_pages,
            max_response_size=max_response_size,
            rate=rate,
            delay=delay,
            concurrency=concurrency,
            requests=requests,
            ignore_robots=ignore_robots,
            sitemap=sitemap,
            allow_private_network=allow_private_network,
            timeout=timeout,
            read_timeout=read_timeout,
        )
    _refuse_private_seeds([*site.seeds, *site.sitemaps], allow_private_network)
    quiet_prefect(verbose)
    if auth:
        from .auth import check_auth

        check_auth(auth)
    from flows.web import ingest_web

    async def crawl() -> Any:
        return await ingest_web(site=site, options=options, auth=auth, return_state=True)

    run_and_exit(lambda: asyncio.run(crawl()), as_json)


def _refuse_private_seeds(seeds: list[str], allowed: bool) -> None:
    """A seed (or sitemap) on a private address is a usage error, reported before any
    request."""
    from ingest.sources.web import PrivateAddressError
    from ingest.sources.web.addresses import AddressGuard
    from ingest.sources.web.urls import host_port

    for seed in seeds:
        host, port = host_port(seed)
        guard = AddressGuard(allow_private_network=allowed)
        try:
            asyncio.run(guard.check(seed, host, port))
        except PrivateAddressError as exc:
            raise fail_usage(f"{seed}: {exc.reason} (pass --allow-private-network)") from exc
        except IngestError as exc:
            raise fail_usage(f"{seed}: {exc.reason}") from exc


def web_site(
    urls: list[str],
    *,
    scope: CrawlScope | str = CrawlScope.host,
    domain: list[str] | None = None,
    prefix: list[str] | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    max_depth: int = 5,
    max_pages: int = 10_000,
    max_response_size: str = "20MB",
    rate: float | None = None,
    delay: float = 0.0,
    concurrency: int = 8,
    requests: int = 16,
    ignore_robots: bool = False,
    sitemap: list[str] | None = None,
    allow_private_network: bool = False,
    timeout: float = 120.0,
    read_timeout: float = 30.0,
) -> WebSourceConfig:
    """The flow's site parameters from the command's options (shared with submit);
    raises ConfigurationError (or pydantic's ValidationError) for a bad option, and
    for a seed or sitemap that is not an http(s) URL.

    `concurrency` is the requests in flight to one host, `requests` those in all;
    sitemaps are read whatever --scope, --prefix or --include say (only their host is
    checked), and the pages they list are checked in full."""
    from ingest.sources.web import WebSourceConfig
    from ingest.sources.web.urls import host_of, normalize_url

    scope = CrawlScope(scope)
    for url in sitemap or []:
        if normalize_url(url) is None:
            raise ConfigurationError(
                f"--sitemap {url!r} is not an http or https URL", details={"sitemap": url}
            )
    if rate is not None and not rate > 0:
        raise ConfigurationError(f"--rate must be greater than 0 (requests per second), got {rate}")
    if not delay >= 0:
        raise ConfigurationError(f"--delay must be 0 or more seconds, got {delay}")
    for option, seconds in (("--timeout", timeout), ("--read-timeout", read_timeout)):
        if not 0 < seconds < float("inf"):
            raise ConfigurationError(f"{option} must be more than 0 seconds, got {seconds:g}")
    for option, patterns in (("--include", include), ("--exclude", exclude)):
        for pattern in patterns or []:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigurationError(
                    f"{option} {pattern!r}: invalid regular expression ({exc})"
                ) from exc
    seeds = list(dict.fromkeys(urls))
    if prefix:
        prefixes = list(prefix)
    elif scope is CrawlScope.prefix:
        prefixes = [p for url in urls if (p := seed_prefix(url))]
    else:
        prefixes = []
    domains: list[str] = []
    if domain:  # extra hosts: the seeds' own stay in scope
        hosts = [host_of(norm) for seed in seeds if (norm := normalize_url(seed))]
        domains = list(dict.fromkeys([*hosts, *domain]))
    site = WebSourceConfig(
        seeds=seeds,
        sitemaps=list(dict.fromkeys(sitemap or [])),
        allowed_domains=domains,
        include_subdomains=scope is CrawlScope.domain,
        url_prefixes=list(dict.fromkeys(prefixes)),
        allow_patterns=include or [],
        deny_patterns=exclude or [],
        max_depth=max_depth,
        max_pages=max_pages,
        max_bytes=parse_size(max_response_size),
        per_host_delay=max(delay, 1 / rate) if rate else delay,
        per_host_concurrency=concurrency,
        concurrency=requests,
        ignore_robots=ignore_robots,
        allow_private_network=allow_private_network,
        request_deadline=timeout,
        read_timeout=read_timeout,
    )
    site.check()
    return site


def seed_prefix(url: str) -> str | None:
    """The directory of a seed, as the prefix of `--scope prefix`:
    https://x.org/docs/guide/index.html -> https://x.org/docs/guide/ (None: not http(s))."""
    from ingest.sources.web.urls import normalize_url

    normalized = normalize_url(url)
    if normalized is None:
        return None
    without_query = normalized.split("?", 1)[0]
    return without_query[: without_query.rindex("/") + 1]
