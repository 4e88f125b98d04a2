"""Pages per second of a full crawl of the generated site, served from another process.

python benchmarks/bench_web_crawl.py [--pages 2000] [--server stdlib|aiohttp] [--backend ...]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "web"))
sys.path.insert(0, str(Path(__file__).parents[1]))

from web_testsite import SiteState, page_html, start  # noqa: E402

from ingest.sources.web import WebSource, WebSourceConfig  # noqa: E402


def serve_stdlib(pages: int, port_out: multiprocessing.SimpleQueue[int]) -> None:
    server, thread = start(SiteState(pages=pages, robots="User-agent: *\nDisallow: /private/\n"))
    port_out.put(server.server_address[1])
    thread.join()


def serve_aiohttp(pages: int, port_out: multiprocessing.SimpleQueue[int]) -> None:
    from aiohttp import web

    async def main() -> None:
        base: list[str] = []

        async def handle(request: web.Request) -> web.Response:
            path = request.path
            if path == "/robots.txt":
                return web.Response(text="User-agent: *\nDisallow: /private/\n")
            if path.startswith("/page/") and path.endswith(".html"):
                number = path[len("/page/") : -len(".html")]
                if number.isdigit() and int(number) < pages:
                    body = page_html(int(number), pages, base[0])
                    return web.Response(text=body, content_type="text/html")
            return web.Response(text="<html></html>", content_type="text/html")

        app = web.Application()
        app.router.add_get("/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        base.append(f"http://127.0.0.1:{port}")
        port_out.put(port)
        await asyncio.Event().wait()

    asyncio.run(main())


async def crawl(base: str, backend: str, concurrency: int) -> tuple[int, float]:
    cfg = WebSourceConfig(
        seeds=[f"{base}/page/0.html"],
        allow_private_network=True,
        max_depth=100,
        max_pages=100_000,
        http_backend=backend,  # type: ignore[arg-type]
        concurrency=concurrency,
        per_host_concurrency=concurrency,
    )
    started = time.perf_counter()
    pages = 0
    async with WebSource(cfg) as source:
        async for batch in source.crawl(100):
            pages += len(batch)
    return pages, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--server", choices=["stdlib", "aiohttp"], default="aiohttp")
    parser.add_argument("--backend", choices=["httpx", "aiohttp", "both"], default="both")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    ports: multiprocessing.SimpleQueue[int] = multiprocessing.SimpleQueue()
    target = serve_aiohttp if args.server == "aiohttp" else serve_stdlib
    process = multiprocessing.Process(target=target, args=(args.pages, ports), daemon=True)
    process.start()
    base = f"http://127.0.0.1:{ports.get()}"
    backends = ["httpx", "aiohttp"] if args.backend == "both" else [args.backend]
    try:
        for _ in range(args.rounds):
            for backend in backends:
                pages, seconds = asyncio.run(crawl(base, backend, args.concurrency))
                print(
                    f"{args.server} server, {backend:7} client: {pages} pages in "
                    f"{seconds:.2f} s = {pages / seconds:.0f} pages/s"
                )
    finally:
        process.terminate()
        process.join()


if __name__ == "__main__":
    main()
