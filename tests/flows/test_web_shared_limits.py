"""Per-host limits that hold across flow runs crawling one host at the same time, kept
in Prefect global concurrency limits and measured on the server side."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ingest.sources.web import WebSource
from tests.support.quiet_handler import QuietHandler
from tests.support.web_helpers import config

pytestmark = pytest.mark.prefect

PAGES = 40
SERVE_SECONDS = 0.04


class CountingServer(ThreadingHTTPServer):
    """A chain of pages, each answered after a short wait; records request start times
    and the largest number of requests in flight at once."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.starts: list[float] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def reset(self) -> None:
        with self.lock:
            self.in_flight = self.max_in_flight = 0
            self.starts.clear()


class _Handler(QuietHandler):
    server: CountingServer

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        if not self.path.startswith("/p/"):
            self.send(404, b"not found")
            return
        with self.server.lock:
            self.server.starts.append(time.monotonic())
            self.server.in_flight += 1
            self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
        try:
            time.sleep(SERVE_SECONDS)
            n = int(self.path.removeprefix("/p/").removesuffix(".html"))
            links = "".join(f'<a href="/p/{(n * 3 + k) % PAGES}.html">next</a>' for k in (1, 2, 3))
            self.send(
                200, f"<html><body><h1>Page {n}</h1><p>Words {n}.</p>{links}</body></html>".encode()
            )
        finally:
            with self.server.lock:
                self.server.in_flight -= 1


@pytest.fixture
def server() -> Iterator[CountingServer]:
    httpd = CountingServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def _site(server: CountingServer, **options: Any) -> Any:
    return config([f"{server.base}/p/0.html"], max_depth=50, ignore_robots=True, **options)


def _ingest(site: Any, store: Path) -> Any:
    from flows.params import RunOptions
    from flows.web import ingest_web

    return ingest_web(site=site, options=RunOptions(store=str(store)))


def _flow_run(site: Any, store: Path) -> dict[str, Any]:
    return asyncio.run(_ingest(site, store))  # type: ignore[no-any-return]


def _two_flow_runs(site: Any, tmp_path: Path) -> list[dict[str, Any]]:
    """Two runs of the flow at once (separate stores, so both crawl everything)."""

    async def main() -> list[Any]:
        return list(await asyncio.gather(*(_ingest(site, tmp_path / f"run{n}.db") for n in (1, 2))))

    return asyncio.run(main())


def _two_plain_crawls(site: Any) -> None:
    """The same two crawls without shared limits: what the server sees otherwise."""

    async def crawl() -> None:
        async with WebSource(site) as source:
            async for _ in source.crawl(50):
                pass

    async def main() -> None:
        await asyncio.gather(crawl(), crawl())

    asyncio.run(main())


def _read_limit(name: str) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_global_concurrency_limit_by_name(name)


def test_two_runs_share_the_hosts_concurrency_limit(
    prefect_api: str, isolated_results: Path, server: CountingServer, tmp_path: Path
) -> None:
    site = _site(server, per_host_concurrency=3, concurrency=3)
    _two_plain_crawls(site)
    alone = server.max_in_flight
    assert alone > 3, "without shared limits two crawls exceed one crawl's limit"
    server.reset()

    reports = _two_flow_runs(site, tmp_path)

    assert [report["counts"]["new"] for report in reports] == [PAGES, PAGES]
    assert len(server.starts) == 2 * PAGES
    assert server.max_in_flight <= 3, server.max_in_flight
    limit = _read_limit(f"ingest-web-concurrency:127.0.0.1:{server.server_address[1]}")
    assert limit.limit == 3
    assert limit.active_slots == 0, "every leased slot is given back when the runs end"


def test_two_runs_share_the_hosts_request_rate(
    prefect_api: str, isolated_results: Path, server: CountingServer, tmp_path: Path
) -> None:
    delay = 0.1
    site = _site(server, per_host_delay=delay, max_pages=15)
    _two_plain_crawls(site)
    assert _requests_per_second(server.starts) > 1.5 / delay, "two crawls alone go twice as fast"
    server.reset()

    reports = _two_flow_runs(site, tmp_path)

    assert [report["counts"]["new"] for report in reports] == [15, 15]
    assert _requests_per_second(server.starts) <= 1.15 / delay, sorted(server.starts)
    limit = _read_limit(f"ingest-web-rate:127.0.0.1:{server.server_address[1]}")
    assert (limit.limit, limit.slot_decay_per_second) == (5, pytest.approx(1 / delay))

    server.reset()
    alone = _flow_run(site, tmp_path / "alone.db")
    assert alone["counts"]["new"] == 15
    # The typical gap, not the whole span: one stall of a loaded machine is not the limiter.
    assert _typical_rate(server.starts) >= 0.8 / delay, ("alone, a crawl keeps its rate", alone)


def test_an_existing_limit_is_set_to_the_crawls_settings(
    prefect_api: str, isolated_results: Path, server: CountingServer, tmp_path: Path
) -> None:
    """A limit left by an earlier crawl with other settings (or made inactive) takes the
    new crawl's settings instead of holding it back."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    name = f"ingest-web-concurrency:127.0.0.1:{server.server_address[1]}"
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name=name, limit=1, active=False)
        )
    reports = _two_flow_runs(_site(server, per_host_concurrency=2, max_pages=10), tmp_path)
    assert [report["counts"]["new"] for report in reports] == [10, 10]
    assert server.max_in_flight <= 2
    limit = _read_limit(name)
    assert (limit.limit, limit.active, limit.active_slots) == (2, True, 0)


def test_the_next_run_of_a_job_gives_back_the_slots_of_a_run_that_died(
    prefect_api: str, server: CountingServer
) -> None:
    """A killed crawl cannot give its leased slots back; the next run of its job reads
    them from the job's lease list in Prefect and gives them back before crawling."""
    from prefect.client.orchestration import get_client

    from flows.adapters.host_limits import CONCURRENCY_PREFIX, PrefectHostLimits, limit_key

    site = _site(server, per_host_concurrency=3)
    name = CONCURRENCY_PREFIX + limit_key(server.base)

    async def active_slots() -> int:
        async with get_client() as client:
            return (await client.read_global_concurrency_limit_by_name(name)).active_slots

    async def main() -> list[int]:
        dead = PrefectHostLimits(site, share_concurrency=True)
        await dead.start("job-that-died")
        held = [dead.slot(server.base, 0.0) for _ in range(3)]
        for slot in held:  # entered, never left: the process was killed mid-request
            await slot.__aenter__()
        seen = [await active_slots()]
        if dead._sweeper is not None:
            dead._sweeper.cancel()
        other_job = PrefectHostLimits(site, share_concurrency=True)
        await other_job.start("another-job")
        seen.append(await active_slots())
        await other_job.aclose()
        same_job = PrefectHostLimits(site, share_concurrency=True)
        await same_job.start("job-that-died")
        seen.append(await active_slots())
        async with same_job.slot(server.base, 0.0):
            seen.append(await active_slots())
        await same_job.aclose()
        seen.append(await active_slots())
        return seen

    assert asyncio.run(main()) == [3, 3, 0, 1, 0]


def test_limit_names_hold_the_host_and_port_only() -> None:
    from flows.adapters.host_limits import limit_key

    assert limit_key("https://user:secret@Docs.Example.org:8443") == "docs.example.org:8443"
    assert limit_key("http://[::1]:8080") == "[::1]:8080"
    assert limit_key("https://example.org") == "example.org"


def test_leases_are_shared_only_with_a_prefect_server() -> None:
    """The ephemeral API keeps leases in its own memory and never expires them, so a
    crash would hold the host's slots for good: only a configured server shares them."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.adapters.host_limits import leases_are_safe

    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        assert leases_are_safe()
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert not leases_are_safe()


def _typical_rate(starts: list[float]) -> float:
    """Requests per second from the median gap between request starts."""
    ordered = sorted(starts)
    return 1 / statistics.median(b - a for a, b in itertools.pairwise(ordered))


def _requests_per_second(starts: list[float]) -> float:
    ordered = sorted(starts)
    return (len(ordered) - 1) / (ordered[-1] - ordered[0])
