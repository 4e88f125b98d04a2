"""`ingest web URL...`: a site through the `ingest-web` flow."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from ingest.errors import IngestError

from .app import app, fail_usage
from .common import (
    BatchSizeOption,
    ConcurrencyOption,
    CustomValidatorOption,
    FullOption,
    JsonOption,
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


AuthOption = Annotated[
    str | None,
    typer.Option(
        "--auth",
        metavar="NAME",
        help="Credentials block to send to the seeds' origins (see `ingest auth`).",
    ),
]


@app.command("web")
def ingest_site(
    urls: Annotated[list[str], typer.Argument(help="Seed pages or sitemaps (http or https).")],
    domain: Annotated[
        list[str] | None, typer.Option("--domain", help="Also crawl this domain.")
    ] = None,
    prefix: Annotated[
        list[str] | None, typer.Option("--prefix", help="Only URLs under this prefix.")
    ] = None,
    allow: Annotated[
        list[str] | None, typer.Option("--allow", help="Only URLs matching this regex.")
    ] = None,
    deny: Annotated[
        list[str] | None, typer.Option("--deny", help="Skip URLs matching this regex.")
    ] = None,
    max_depth: Annotated[int, typer.Option("--max-depth", help="Link hops from a seed.")] = 5,
    max_pages: Annotated[int, typer.Option("--max-pages", help="Pages fetched at most.")] = 10_000,
    max_size: Annotated[
        str, typer.Option("--max-size", help="Largest response body (e.g. 20MB).")
    ] = "20MB",
    delay: Annotated[
        float, typer.Option("--delay", help="Seconds between requests to one host.")
    ] = 0.0,
    requests: Annotated[int, typer.Option("--requests", help="Requests in flight at most.")] = 16,
    ignore_robots: Annotated[
        bool, typer.Option("--ignore-robots", help="Do not obey robots.txt (on purpose only).")
    ] = False,
    allow_private_network: Annotated[
        bool,
        typer.Option(
            "--allow-private-network", help="Allow private, loopback and link-local addresses."
        ),
    ] = False,
    auth: AuthOption = None,
    batch_size: BatchSizeOption = 50,
    concurrency: ConcurrencyOption = 2,
    workers: WorkersOption = 1,
    full: FullOption = False,
    strict: StrictOption = False,
    schema: SchemaOption = None,
    validator: ValidatorOption = None,
    skip_validator: SkipValidatorOption = None,
    custom_validator: CustomValidatorOption = None,
    max_rejected_share: MaxRejectedShareOption = None,
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
            concurrency=concurrency,
            workers=workers,
            full=full,
            strict=strict,
            schema=schema,
            validator=validator,
            skip_validator=skip_validator,
            custom_validator=custom_validator,
            max_rejected_share=max_rejected_share,
            result_storage=result_storage,
        )
        site = web_site(
            urls,
            domain,
            prefix,
            allow,
            deny,
            max_depth,
            max_pages,
            max_size,
            delay,
            requests,
            ignore_robots,
            allow_private_network,
        )
    _refuse_private_seeds(site.seeds, allow_private_network)
    quiet_prefect(verbose)
    if auth:
        from .auth import check_auth

        check_auth(auth)
    from flows.web import ingest_web

    run_and_exit(
        lambda: asyncio.run(ingest_web(site=site, options=options, auth=auth, return_state=True)),
        as_json,
    )


def _refuse_private_seeds(seeds: list[str], allowed: bool) -> None:
    """A seed on a private address is a usage error, reported before any request."""
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
    domain: list[str] | None,
    prefix: list[str] | None,
    allow: list[str] | None,
    deny: list[str] | None,
    max_depth: int,
    max_pages: int,
    max_size: str,
    delay: float,
    requests: int,
    ignore_robots: bool,
    allow_private_network: bool,
) -> WebSourceConfig:
    """The flow's site parameters from the command's options (shared with submit);
    raises ConfigurationError for a seed that is not an http(s) URL."""
    from ingest.sources.web import WebSourceConfig

    site = WebSourceConfig(
        seeds=urls,
        allowed_domains=domain or [],
        url_prefixes=prefix or [],
        allow_patterns=allow or [],
        deny_patterns=deny or [],
        max_depth=max_depth,
        max_pages=max_pages,
        max_bytes=parse_size(max_size),
        per_host_delay=delay,
        concurrency=requests,
        ignore_robots=ignore_robots,
        allow_private_network=allow_private_network,
    )
    site.check()
    return site
