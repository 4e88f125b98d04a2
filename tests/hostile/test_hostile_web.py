"""The web cases of the registry against the hostile server on 127.0.0.1: each fetch case
through `Crawler.fetch`, each crawl case through `WebSource.crawl`, and one real
`ingest-web` flow run over a site linking to many of them at once, with secrets planted in
URL user info and response headers and searched for in everything the run wrote."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ingest.errors import IngestError
from ingest.sources.web import CrawledPage, Crawler, WebSource, WebSourceConfig
from tests.hostile.cases import MB, Case, CaseResult, Expect, RssSampler, record
from tests.hostile.server import SENTINEL, HostileServer
from tests.hostile.web_cases import CRAWL_CASES, FAST, FETCH_CASES, FLOW_CASE, FLOW_LINKS, WebCase

T = TypeVar("T")
#: A case that runs past this many times its bound has hung: the run is cut and counted.
HANG_FACTOR = 4


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as running:
        yield running


def _config(seeds: list[str], **settings: Any) -> WebSourceConfig:
    return WebSourceConfig(seeds=seeds, **{**FAST, **settings})


def _measured(
    case: Case, make: Callable[[], Awaitable[T]], *, rss: bool = False
) -> tuple[T | BaseException, float, float]:
    """Run `make()` under a hang guard; (its value or the exception, seconds, peak MB).

    Peak memory is what tracemalloc saw allocated or, with `rss` (heavy cases, which
    tracemalloc would slow several times), the growth of the resident set."""

    async def guarded() -> T:
        return await asyncio.wait_for(make(), case.max_seconds * HANG_FACTOR)

    sampler = RssSampler() if rss else None
    if sampler is None:
        tracemalloc.start()
    else:
        sampler.start()
    started = time.perf_counter()
    try:
        value: T | BaseException = asyncio.run(guarded())
    except Exception as exc:  # noqa: BLE001 - the outcome under test
        value = exc
    finally:
        seconds = time.perf_counter() - started
        if sampler is None:
            peak = tracemalloc.get_traced_memory()[1] / MB
            tracemalloc.stop()
        else:
            peak = sampler.stop()
    return value, seconds, peak


def _judge_error(expect: Expect, error: BaseException) -> tuple[str, bool, bool]:
    """(actual, handled, crashed) for an exception raised by the code under test."""
    if isinstance(error, TimeoutError):
        return "HUNG past the hang guard", False, True
    if not isinstance(error, IngestError):
        return f"CRASH {type(error).__name__}: {error}", False, True
    actual = f"failed {error.error_type}: {error.reason}"
    handled = expect.handling == "failed" and error.error_type == expect.code
    if expect.message:
        handled = handled and expect.message in str(error)
    named = error.uri is not None and error.stage is not None
    return actual, handled and named, False


@pytest.mark.parametrize("web", FETCH_CASES, ids=lambda web: web.case.name)
def test_fetch_case(server: HostileServer, web: WebCase) -> None:
    url = server.base + web.path
    cfg = _config([server.base], ignore_robots=True, **web.settings)

    async def fetch() -> Any:
        async with Crawler(cfg) as crawler:
            return await crawler.fetch(url)

    value, seconds, peak = _measured(web.case, fetch)
    if isinstance(value, BaseException):
        actual, handled, crashed = _judge_error(web.case.expect, value)
    else:
        actual, handled, crashed = f"fetched {value.status}, {len(value.body)} bytes", False, False
        handled = web.case.expect.handling == "new"
    result = record(
        web.case,
        actual,
        handled,
        crashed=crashed,
        seconds=round(seconds, 3),
        peak_mb=round(peak, 1),
    )
    _assert_ok(result)


def _assert_ok(result: CaseResult) -> None:
    if result.known_failure:
        assert not result.ok, f"{result.name} is fixed: drop its known_failure mark"
        return
    assert result.ok, result


# -- crawl cases ----------------------------------------------------------------------------


def _crawl(cfg: WebSourceConfig, pages: list[CrawledPage]) -> Callable[[], Awaitable[WebSource]]:
    async def run() -> WebSource:
        async with WebSource(cfg) as source:
            async for batch in source.crawl(50):
                pages.extend(batch)
        return source

    return run


def _only_page(case: Case, pages: list[CrawledPage], source: WebSource) -> tuple[str, bool]:
    if case.expect.handling == "refused":
        codes = [refusal.code for refusal in source.refusals]
        return f"refused {codes}, {len(pages)} pages", not pages and codes == [case.expect.code]
    if len(pages) != 1:
        return f"{len(pages)} pages, refusals {[r.code for r in source.refusals]}", False
    [page] = pages
    if page.error is not None:
        actual, handled, _ = _judge_error(case.expect, page.error)
        return actual, handled
    assert page.result is not None
    return (
        f"fetched {page.result.status}",
        case.expect.handling == "new" and page.result.status == 200,
    )


@pytest.mark.parametrize(
    ("name", "robots"),
    [
        ("robots-huge", "huge"),
        ("robots-malformed", "malformed"),
        ("robots-is-html", "html"),
        ("robots-500", "error"),
    ],
)
def test_robots_case(name: str, robots: str) -> None:
    case = CRAWL_CASES[name]
    with HostileServer(robots=robots) as site:
        pages: list[CrawledPage] = []
        value, seconds, peak = _measured(case, _crawl(_config([site.base + "/ok/1.html"]), pages))
        assert not isinstance(value, BaseException), value
        actual, handled = _only_page(case, pages, value)
        # read once per crawl (a 5xx retried like any other request)
        assert 1 <= site.hits["/robots.txt"] <= 1 + FAST["max_retries"]
    result = record(case, actual, handled, seconds=round(seconds, 3), peak_mb=round(peak, 1))
    _assert_ok(result)


def test_tls_self_signed_seed() -> None:
    case = CRAWL_CASES["tls-self-signed"]
    with HostileServer(tls=True) as site:
        assert site.base.startswith("https://127.0.0.1:")
        pages: list[CrawledPage] = []
        value, seconds, peak = _measured(
            case, _crawl(_config([site.base + "/ok/1.html"], ignore_robots=True), pages)
        )
        assert not isinstance(value, BaseException), value
        actual, handled = _only_page(case, pages, value)
        retryable = [p.error.retryable for p in pages if p.error]
        if retryable != [False]:
            actual, handled = f"{actual} (retryable: {retryable})", False
    result = record(case, actual, handled, seconds=round(seconds, 3), peak_mb=round(peak, 1))
    _assert_ok(result)


def test_private_seed_with_the_guard_on_sends_nothing(server: HostileServer) -> None:
    case = CRAWL_CASES["private-seed-guard-on"]
    before = sum(server.hits.values())
    pages: list[CrawledPage] = []
    cfg = _config([server.base + "/ok/1.html"], allow_private_network=False)
    value, seconds, peak = _measured(case, _crawl(cfg, pages))
    assert not isinstance(value, BaseException), value
    actual, handled = _only_page(case, pages, value)
    assert sum(server.hits.values()) == before, "no request may reach a private address"
    result = record(case, actual, handled, seconds=round(seconds, 3), peak_mb=round(peak, 1))
    _assert_ok(result)


def test_sitemap_of_a_million_urls_under_the_default_cap(server: HostileServer) -> None:
    case = CRAWL_CASES["sitemap-million-default-caps"]
    pages: list[CrawledPage] = []
    # The case is the size cap: reading 20 MiB takes longer than FAST's 1.5 s per attempt,
    # which since --timeout covers the whole attempt would end it as a timeout instead.
    cfg = _config(
        [server.base + "/sitemap-million.xml"],
        ignore_robots=True,
        max_bytes=20 * MB,
        max_pages=50,
        request_deadline=20,
    )
    value, seconds, peak = _measured(case, _crawl(cfg, pages))
    assert not isinstance(value, BaseException), value
    actual, handled = _only_page(case, pages, value)
    result = record(case, actual, handled, seconds=round(seconds, 3), peak_mb=round(peak, 1))
    _assert_ok(result)


def test_sitemap_of_a_million_urls_with_raised_caps_stays_within_max_pages(
    server: HostileServer,
) -> None:
    case = CRAWL_CASES["sitemap-million-raised-caps"]
    pages: list[CrawledPage] = []
    cfg = _config(
        [server.base + "/sitemap-million.xml"],
        ignore_robots=True,
        max_bytes=100 * MB,
        max_sitemap_bytes=100 * MB,
        max_pages=100,
        request_deadline=20,
        max_refusals_recorded=100,
        concurrency=8,
    )
    value, seconds, peak = _measured(case, _crawl(cfg, pages), rss=True)
    assert not isinstance(value, BaseException), value
    fetched = [p for p in pages if p.result is not None]
    uris = [p.item.uri for p in pages]
    bounded = 0 < len(pages) <= 100 and len(uris) == len(set(uris))
    refused = len(value.refusals)
    actual = f"{len(pages)} pages ({len(fetched)} fetched), {refused} refusals recorded"
    result = record(
        case,
        actual,
        bounded and refused <= 100,
        duplicated=len(uris) - len(set(uris)),
        seconds=round(seconds, 3),
        peak_mb=round(peak, 1),
    )
    _assert_ok(result)


def test_infinite_link_generator_stops_at_the_page_budget(server: HostileServer) -> None:
    case = CRAWL_CASES["infinite-links"]
    pages: list[CrawledPage] = []
    cfg = _config([server.base + "/infinite/1"], ignore_robots=True, max_pages=300, max_depth=1000)
    value, seconds, peak = _measured(case, _crawl(cfg, pages))
    assert not isinstance(value, BaseException), value
    uris = [p.item.uri for p in pages]
    errors = [p.error for p in pages if p.error]
    handled = len(pages) == 300 and not errors
    actual = f"{len(pages)} pages, {len(set(uris))} distinct, {len(errors)} errors"
    result = record(
        case,
        actual,
        handled,
        duplicated=len(uris) - len(set(uris)),
        seconds=round(seconds, 3),
        peak_mb=round(peak, 1),
    )
    _assert_ok(result)


def test_page_with_an_attribute_bomb_is_crawled_in_linear_time(server: HostileServer) -> None:
    case = CRAWL_CASES["html-30k-attributes"]
    pages: list[CrawledPage] = []
    cfg = _config([server.base + "/attribute-bomb.html"], ignore_robots=True)
    value, seconds, peak = _measured(case, _crawl(cfg, pages))
    assert not isinstance(value, BaseException), value
    actual, handled = _only_page(case, pages, value)
    result = record(case, actual, handled, seconds=round(seconds, 3), peak_mb=round(peak, 1))
    _assert_ok(result)


def test_page_that_differs_on_every_request_is_fetched_once_per_crawl(
    server: HostileServer,
) -> None:
    case = CRAWL_CASES["page-differs-every-request"]
    bodies: list[bytes] = []
    started = time.perf_counter()
    for _ in range(2):
        pages: list[CrawledPage] = []
        value, _, peak = _measured(
            case, _crawl(_config([server.base + "/changing"], ignore_robots=True), pages)
        )
        assert not isinstance(value, BaseException), value
        bodies += [p.result.body for p in pages if p.result is not None]
        assert len(pages) == 1
    seconds = time.perf_counter() - started
    handled = len(bodies) == 2 and bodies[0] != bodies[1]
    result = record(
        case,
        "fetched once per crawl, a new body each time",
        handled,
        seconds=round(seconds, 3),
        peak_mb=round(peak, 1),
    )
    _assert_ok(result)


# -- one real ingest-web flow run ----------------------------------------------------------


@pytest.mark.prefect
def test_one_web_flow_run_over_a_hostile_site(
    prefect_api: str, isolated_results: Path, tmp_path: Path
) -> None:
    from flows.params import RunOptions
    from flows.web import ingest_web
    from ingest.errors import RunFailedError
    from ingest.store import open_store

    with HostileServer(index_links=list(FLOW_LINKS)) as site:
        # The seed carries user info: it must never be sent or written anywhere.
        seed = site.base.replace("://", f"://user:{SENTINEL}@") + "/index.html"
        cfg = _config([seed], ignore_robots=True, max_depth=2, max_pages=100)
        store = tmp_path / "web.db"
        options = RunOptions(store=str(store), batch_size=10, retries=0)

        async def main() -> Any:
            return await ingest_web(site=cfg, options=options, return_state=True)

        tracemalloc.start()
        started = time.perf_counter()
        try:
            state = asyncio.run(asyncio.wait_for(main(), FLOW_CASE.max_seconds * HANG_FACTOR))
        finally:
            seconds = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] / MB
            tracemalloc.stop()
        report = state.result(raise_on_failure=False)
        if isinstance(report, RunFailedError):
            report = report.report.model_dump(mode="json")
        assert isinstance(report, dict), report
        requests = list(site.requests)

    base = site.base
    seen: dict[str, list[tuple[str, str]]] = {}
    for failure in report["failures"]:
        seen.setdefault(failure["uri"], []).append(("failed", failure["error_type"]))
    for rejection in report["rejected"]:
        seen.setdefault(rejection["uri"], []).append(("rejected", rejection["errors"][0]))
    for skip in report["skipped"]:
        seen.setdefault(skip["uri"], []).append(("skipped", skip["code"]))
    with open_store(str(store)) as opened:
        assert opened.check() == [], "ingest check must pass after the hostile crawl"
        for document in opened.iter_export():
            seen.setdefault(document.uri, []).append(("new", ""))
    wrong = []
    for path, expect in FLOW_LINKS.items():
        got = seen.get(base + path, [])
        ok = (
            len(got) == 1
            and got[0][0] == expect.handling
            and (expect.code is None or got[0][1].split(":")[0] == expect.code)
        )
        if not ok:
            wrong.append(f"{path}: expected {expect.describe()}, got {got}")
    lost = sum(not seen.get(base + path) for path in FLOW_LINKS)
    duplicated = sum(max(len(seen.get(base + path, [])) - 1, 0) for path in FLOW_LINKS)

    leaks = [
        str(p)
        for p in _written_files(tmp_path, isolated_results)
        if SENTINEL.encode() in p.read_bytes()
    ]
    if SENTINEL in str(report):
        leaks.append("the run report")
    # User info is dropped from URLs, never turned into credentials. (The cookie the site
    # set goes back to the same origin only, as a browser would send it.)
    leaks += [
        f"Authorization sent to {target}"
        for target, headers in requests
        if "authorization" in headers
    ]
    crashed = state.is_crashed() or "Traceback" in str(report)
    result = record(
        FLOW_CASE,
        f"{report['counts']}; wrong: {wrong}"
        if wrong
        else f"every page as expected {report['counts']}",
        not wrong,
        crashed=crashed,
        lost=lost,
        duplicated=duplicated,
        leaked=len(leaks),
        seconds=round(seconds, 2),
        peak_mb=round(peak, 1),
    )
    assert not leaks, leaks
    assert result.ok, result.actual
    assert report["counts"]["failed"] == sum(e.handling == "failed" for e in FLOW_LINKS.values())


def _written_files(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if root.exists():
            yield from (path for path in root.rglob("*") if path.is_file())
