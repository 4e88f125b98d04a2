"""From option groups to flow parameters: option values parsed (sizes, schema
mappings, store URLs), the flow's models built and checked; a bad option is a
ConfigurationError (or pydantic's ValidationError), which `usage_errors` turns into one
line and exit 2 before any work."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from ingest.errors import ConfigurationError

from .app import fail_usage
from .options import CrawlScope, FolderArgs, RunArgs, SiteArgs
from .output_paths import check_store_location

if TYPE_CHECKING:
    from flows.params import FolderSource, RunOptions
    from ingest.sources.web import WebSourceConfig

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """'10MB', '512KiB', '1.5g', '2048' -> bytes."""
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _UNITS:
        raise ConfigurationError(
            f"invalid size {text!r}: use a number with an optional unit "
            "(B, KB, KiB, MB, MiB, GB, GiB)"
        )
    size = int(float(match.group(1)) * _UNITS[unit])
    if size <= 0:
        raise ConfigurationError(f"invalid size {text!r}: must be greater than zero")
    return size


def parse_schema_mappings(values: list[str]) -> list[dict[str, str]]:
    """'data/*.json=schemas/item.json' pairs -> [{glob, schema}], in the order given
    (for each item the first matching glob with a schema of its kind applies)."""
    mappings: list[dict[str, str]] = []
    for value in values:
        pattern, sep, schema = value.partition("=")
        if not sep or not pattern or not schema:
            raise ConfigurationError(f"invalid --schema {value!r}: expected GLOB=SCHEMA_FILE")
        mappings.append({"glob": pattern, "schema": schema})
    return mappings


@contextmanager
def usage_errors() -> Iterator[None]:
    """Bad options and settings become one line on stderr and exit 2."""
    try:
        yield
    except ConfigurationError as exc:
        raise fail_usage(str(exc)) from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise fail_usage(problems) from exc


def run_options(run: RunArgs, *, local: bool = False) -> RunOptions:
    """The flow's RunOptions, checked in full: validators, custom rules and schemas
    must load, the task runner and the result storage must exist.

    A `local` run (the flow runs in this process) takes a password out of the store URL
    and hands it to the driver through PGPASSWORD, so that it never becomes a flow
    parameter; a submitted run refuses it (its worker must have it)."""
    from flows.adapters.results import check_storage
    from flows.params import RunOptions
    from flows.runners import check_runner
    from ingest.store import parse_store_url, split_password
    from ingest.validators import ValidationPolicy, check_policy

    store = run.store
    parse_store_url(store)
    if local:
        check_store_location(store)
    if local and store:
        store, password = split_password(store)
        if password:
            os.environ["PGPASSWORD"] = password
    options = RunOptions(
        store=store,
        batch_size=run.batch_size,
        concurrency=run.batch_concurrency,
        workers=run.workers,
        full=run.full,
        validation=ValidationPolicy(
            enabled=run.validator or [],
            disabled=run.skip_validator or [],
            strict=run.strict,
            schemas=parse_schema_mappings(run.schema or []),
            custom=run.custom_validator or [],
        ),
        max_rejected_share=run.max_rejected_share,
        max_delete_share=run.max_delete_share,
        result_storage=run.result_storage,
        task_runner=run.task_runner,
        dask_address=run.dask_address,
    )
    check_policy(options.validation)
    check_runner(options)
    if options.result_storage:
        check_storage(options.result_storage)  # an unknown block fails here, before any work
    return options


def folder_source(path: str, folder: FolderArgs) -> FolderSource:
    """The flow's folder parameters."""
    from flows.params import FolderSource

    return FolderSource(
        root=Path(path),
        include=folder.include or [],
        exclude=folder.exclude or [],
        gitignore=not folder.no_gitignore,
        hidden=folder.hidden,
        max_file_size=parse_size(folder.max_file_size),
    )


def web_site(urls: list[str], site: SiteArgs) -> WebSourceConfig:
    """The flow's site parameters; raises for a bad option, and for a seed or sitemap
    that is not an http(s) URL. Sitemaps are read whatever --scope, --prefix or
    --include say (only their host is checked), and the pages they list are checked in
    full."""
    from ingest.sources.web import WebSourceConfig

    _check_site(site)
    rate, delay = site.rate, site.delay
    config = WebSourceConfig(
        seeds=list(dict.fromkeys(urls)),
        sitemaps=list(dict.fromkeys(site.sitemap or [])),
        allowed_domains=_extra_domains(urls, site.domain),
        include_subdomains=CrawlScope(site.scope) is CrawlScope.domain,
        url_prefixes=_prefixes(urls, site),
        allow_patterns=site.include or [],
        deny_patterns=site.exclude or [],
        max_depth=site.max_depth,
        max_pages=site.max_pages,
        max_bytes=parse_size(site.max_response_size),
        per_host_delay=max(delay, 1 / rate) if rate else delay,
        per_host_concurrency=site.host_concurrency,
        concurrency=site.max_requests,
        ignore_robots=site.ignore_robots,
        allow_private_network=site.allow_private_network,
        request_deadline=site.timeout,
        read_timeout=site.read_timeout,
    )
    config.check()
    return config


def _check_site(site: SiteArgs) -> None:
    from ingest.sources.web.urls import normalize_url

    for url in site.sitemap or []:
        if normalize_url(url) is None:
            raise ConfigurationError(
                f"--sitemap {url!r} is not an http or https URL", details={"sitemap": url}
            )
    if site.rate is not None and not site.rate > 0:
        raise ConfigurationError(
            f"--rate must be greater than 0 (requests per second), got {site.rate}"
        )
    if not site.delay >= 0:
        raise ConfigurationError(f"--delay must be 0 or more seconds, got {site.delay}")
    for option, seconds in (("--timeout", site.timeout), ("--read-timeout", site.read_timeout)):
        if not 0 < seconds < float("inf"):
            raise ConfigurationError(f"{option} must be more than 0 seconds, got {seconds:g}")
    for option, patterns in (("--include", site.include), ("--exclude", site.exclude)):
        for pattern in patterns or []:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigurationError(
                    f"{option} {pattern!r}: invalid regular expression ({exc})"
                ) from exc


def _prefixes(urls: list[str], site: SiteArgs) -> list[str]:
    if site.prefix:
        return list(dict.fromkeys(site.prefix))
    if CrawlScope(site.scope) is CrawlScope.prefix:
        return list(dict.fromkeys(p for url in urls if (p := seed_prefix(url))))
    return []


def _extra_domains(urls: list[str], domain: list[str] | None) -> list[str]:
    """Extra hosts, with the seeds' own, which stay in scope; none: the seeds' hosts."""
    from ingest.sources.web.urls import host_of, normalize_url

    if not domain:
        return []
    seeds = list(dict.fromkeys(urls))
    hosts = [host_of(norm) for seed in seeds if (norm := normalize_url(seed))]
    return list(dict.fromkeys([*hosts, *domain]))


def seed_prefix(url: str) -> str | None:
    """The directory of a seed, as the prefix of `--scope prefix`:
    https://x.org/docs/guide/index.html -> https://x.org/docs/guide/ (None: not http(s))."""
    from ingest.sources.web.urls import normalize_url

    normalized = normalize_url(url)
    if normalized is None:
        return None
    without_query = normalized.split("?", 1)[0]
    return without_query[: without_query.rindex("/") + 1]
