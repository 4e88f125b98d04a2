"""`ingest web URL...`: a site through the `ingest-web` flow."""

from __future__ import annotations

import asyncio
from typing import Any

from ingest.errors import IngestError

from .app import app, fail_usage
from .option_groups import takes
from .options import (
    SITE_GROUP,
    SITE_RUN,
    AuthOption,
    JsonOption,
    RunArgs,
    SeedsArgument,
    SiteArgs,
    VerboseOption,
)
from .parameters import run_options, usage_errors, web_site
from .prefect_env import quiet_prefect
from .report import run_and_exit


@app.command("web")
@takes(site=SITE_GROUP, run=SITE_RUN)
def ingest_site(
    urls: SeedsArgument,
    *,
    site: SiteArgs,
    auth: AuthOption = None,
    run: RunArgs,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Crawl a site and ingest its pages through the `ingest-web` flow."""
    with usage_errors():
        options = run_options(run, local=True)
        config = web_site(urls, site)
    _refuse_private_seeds([*config.seeds, *config.sitemaps], site.allow_private_network)
    quiet_prefect(verbose)
    if auth:
        from .auth import check_auth

        check_auth(auth)
    from flows.web import ingest_web

    async def crawl() -> Any:
        return await ingest_web(site=config, options=options, auth=auth, return_state=True)

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
