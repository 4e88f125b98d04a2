"""Web ingest throughput, side by side in one run: the `ingest-web` flow against Scrapy.

    python benchmarks/bench_web.py [--pages 3000] [--concurrency 16] [--workers N] [--rounds 3]
                                   [--batch-size 200] [--modes flow,flow1,crawl,scrapy]

A seeded documentation site (home, section indexes, content pages with a header,
top navigation, sidebar, breadcrumbs, an <article> of headings, paragraphs, lists,
code and tables, related links and a footer; about 50 links a page, a robots.txt
that disallows /private/) is generated once and served from memory by an aiohttp
server in a separate process on 127.0.0.1. Each mode then crawls the whole site in
its own process, the modes interleaved (`--rounds` times, the order rotating):

- `ours: flow`: the `ingest-web` flow (`flows.web.ingest_web`): crawl, validation,
  HTML processing (trafilatura main content, sections, chunks) and store writes
  (SQLite in a temporary folder), the CPU work in `--workers` processes (default: one
  per core, `RunOptions.workers`) while crawl and store writes stay in the flow's
  process. Ephemeral Prefect API (PREFECT_API_URL is unset
  for the child) with a PREFECT_HOME of its own (--prefect-home, default
  ~/.cache/aichemist-ingest/bench-web-prefect-home, so a server or other runs on
  ~/.prefect do not contend for its database); `seconds` is the run report's
  `duration_s`, so the API start-up is not counted; `ours: flow, wall` is the same
  run timed from process start to exit (interpreter, imports, API start-up included).
- `ours: flow, 1 process`: the same flow with `workers=1` (everything in one process).
- `ours: crawl only` (reference): `WebSource` alone, pages fetched and their links
  followed, nothing processed or stored.
- `ours: loop, no Prefect` (optional, `--modes ...,loop`): the same crawl and the
  same `ingest.pipeline.run_batch` per batch, without Prefect (the practical limit).
- `scrapy`: a Scrapy spider (benchmarks/scrapy_spider.py) at the same concurrency
  (CONCURRENT_REQUESTS and CONCURRENT_REQUESTS_PER_DOMAIN), robots.txt obeyed,
  LinkExtractor for the links in scope, trafilatura for the main text with the
  options our HTML processor uses, items written to SQLite by an item pipeline
  (executemany, one transaction per 100 items). `seconds` runs from spider_opened
  to spider_closed. Scrapy is installed only in the benchmark's own virtualenv,
  benchmarks/.venv-scrapy (override with --scrapy-venv), created on first use from
  benchmarks/requirements-scrapy.txt. It is not a project dependency and must not be
  committed.

Each row, medians over the rounds: pages stored, seconds, pages/s, wall seconds of the
process, its peak RSS (the ephemeral API server, a process of its own, is not included),
the CPU time of the mode's whole process tree (API server included, wall-clock run;
sampled with psutil) per page, the run's own CPU per page (ours: the flow's process from
the flow call on, after imports and API start-up, plus its extraction workers; Scrapy:
its process from spider_opened to spider_closed), the share of the machine left idle
while the mode ran (/proc/stat; near 0% means every core was busy, with this mode or
with other work on a shared machine), and the ratio of its pages/s to Scrapy's (the
median of the ratios of the same round). The server's request count and CPU seconds per
mode are printed too, as a check that every mode fetched the same site once and that
the server was not the bottleneck. The last lines give the flow/Scrapy ratio per round
and the ratio the two CPU costs per page allow on idle cores (Scrapy uses one core;
ours uses `--workers` of them), which is what a loaded machine cannot show.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REQUIREMENTS = HERE / "requirements-scrapy.txt"
SPIDER = HERE / "scrapy_spider.py"
DEFAULT_VENV = HERE / ".venv-scrapy"
DEFAULT_PREFECT_HOME = Path.home() / ".cache" / "aichemist-ingest" / "bench-web-prefect-home"
STATS_PATH = "/__bench/stats"
ROBOTS = "User-agent: *\nDisallow: /private/\n"

MODES = {
    "flow": "ours: flow",
    "flow1": "ours: flow, 1 process",
    "crawl": "ours: crawl only",
    "loop": "ours: loop, no Prefect",
    "scrapy": "scrapy",
}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the site ---------------------------------------------------------------------------

_WORDS = (
    "the of and to a in is it that for on with as are this be by from or an at which can "
    "you not all your data request response server client cache token session config value "
    "option parameter default service deployment cluster node worker queue task job schedule "
    "retry timeout limit error warning message event stream batch record field schema table "
    "index query filter result state store file folder path version release update install "
    "build test run start stop restart connect disconnect authenticate authorize permission "
    "role user group account project workspace team policy rule resource quota metric log "
    "trace monitor alert dashboard report export import sync backup restore migrate upgrade "
    "network address port host proxy gateway route endpoint header body payload format json "
    "yaml markdown html text binary encoding compression archive storage bucket object key "
    "secret credential certificate signature hash checksum integrity consistency availability "
    "performance latency throughput memory processor thread process concurrency parallel "
    "asynchronous synchronous blocking callback handler middleware plugin extension module "
    "package library framework interface implementation abstraction pattern example tutorial "
    "guide reference overview introduction summary detail section chapter note tip caution "
    "important recommended optional required supported deprecated experimental stable beta "
    "when if then else each every only also must should may will would could first next last "
    "before after during while until because however therefore instead otherwise usually"
).split()
_SECTION_NAMES = (
    "getting-started installation configuration concepts tutorials how-to api-reference "
    "cli-reference deployment security networking storage monitoring integrations "
    "troubleshooting faq migration release-notes architecture best-practices glossary "
    "administration performance development"
).split()
_STATIC_PAGES = ("about", "privacy", "contact")


def _sentence(rng: random.Random, low: int = 8, high: int = 22) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(low, high))]
    if rng.random() < 0.25:
        words[rng.randrange(len(words))] = f"<code>{rng.choice(_WORDS)}_{rng.choice(_WORDS)}</code>"
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _title(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 5))).capitalize()


@dataclass(frozen=True)
class Site:
    """Every HTML page of the site, by path; `pages` in all (index pages included)."""

    documents: dict[str, bytes]

    @property
    def html_pages(self) -> int:
        return sum(1 for path in self.documents if path != "/robots.txt")


def build_site(pages: int, seed: int = 0) -> Site:
    """A documentation site of exactly `pages` HTML pages reachable from `/` within three
    links: home, static pages, section indexes and content pages."""
    rng = random.Random(seed)
    n_sections = max(1, min(len(_SECTION_NAMES), pages // 150))
    sections = _SECTION_NAMES[:n_sections]
    content = pages - 1 - len(_STATIC_PAGES) - n_sections
    if content < n_sections:
        raise SystemExit(f"--pages must be at least {2 * n_sections + 1 + len(_STATIC_PAGES)}")
    by_section: dict[str, list[tuple[str, str]]] = {name: [] for name in sections}
    for i in range(content):
        section = sections[i % n_sections]
        title = _title(rng)
        slug = f"{'-'.join(title.lower().split())}-{i}"
        by_section[section].append((f"/docs/{section}/{slug}.html", title))
    all_pages = [page for entries in by_section.values() for page in entries]

    def section_title(name: str) -> str:
        return name.replace("-", " ").capitalize()

    top_nav = "".join(
        f'<li><a href="/docs/{name}/">{section_title(name)}</a></li>' for name in sections
    )

    def frame(path: str, title: str, sidebar: str, crumbs: str, article: str, extra: str) -> bytes:
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{title} | Acme Docs</title>"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="description" content="{title}: Acme documentation.">'
            f'<link rel="canonical" href="{path}">'
            '<link rel="stylesheet" href="/static/site.css">'
            '<script src="/static/app.js" defer></script></head><body>'
            '<header class="site-header"><a class="logo" href="/">Acme Docs</a>'
            f'<nav class="top-nav" aria-label="Main"><ul>{top_nav}</ul></nav>'
            '<form class="search" action="/search" role="search"><input name="q" '
            'placeholder="Search the docs"><button>Search</button></form></header>'
            f'<div class="layout"><aside class="sidebar"><nav aria-label="Section">{sidebar}'
            "</nav></aside><main>"
            f'<nav class="breadcrumbs" aria-label="Breadcrumb">{crumbs}</nav>'
            f"<article>{article}</article>{extra}</main></div>"
            '<footer class="site-footer"><ul>'
            '<li><a href="/about.html">About</a></li><li><a href="/privacy.html">Privacy</a></li>'
            '<li><a href="/contact.html">Contact</a></li>'
            '<li><a href="/private/admin.html">Admin</a></li>'
            '<li><a href="https://status.example.invalid/">Status</a></li>'
            '<li><a href="mailto:docs@example.invalid">Write to us</a></li></ul>'
            "<p>Copyright 2025 Acme Inc. All rights reserved.</p></footer>"
            "<script>window.dataLayer = window.dataLayer || [];</script></body></html>"
        ).encode()

    def sidebar_for(section: str, around: int) -> str:
        entries = by_section[section]
        start = max(0, min(around - 10, len(entries) - 20))
        items = "".join(
            f'<li><a href="{path}">{title}</a></li>' for path, title in entries[start : start + 20]
        )
        return f"<h2>{section_title(section)}</h2><ul>{items}</ul>"

    def body_blocks() -> str:
        parts = [f'<p class="lead">{" ".join(_sentence(rng) for _ in range(2))}</p>']
        for _ in range(rng.randint(3, 6)):
            parts.append(f"<h2>{_title(rng)}</h2>")
            for _ in range(rng.randint(2, 4)):
                sentences = [_sentence(rng) for _ in range(rng.randint(3, 7))]
                if rng.random() < 0.5:
                    path, title = rng.choice(all_pages)
                    sentences.insert(1, f'See <a href="{path}">{title}</a> for details.')
                parts.append(f"<p>{' '.join(sentences)}</p>")
            roll = rng.random()
            if roll < 0.3:
                lines = "\n".join(
                    f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)} = {rng.randint(0, 999)}"
                    for _ in range(rng.randint(3, 10))
                )
                parts.append(f'<pre><code class="language-python">{lines}</code></pre>')
            elif roll < 0.55:
                items = "".join(
                    f"<li>{_sentence(rng, 4, 10)}</li>" for _ in range(rng.randint(3, 6))
                )
                parts.append(f"<ul>{items}</ul>")
            elif roll < 0.7:
                rows = "".join(
                    f"<tr><td><code>{rng.choice(_WORDS)}</code></td><td>{rng.choice(_WORDS)}</td>"
                    f"<td>{_sentence(rng, 4, 9)}</td></tr>"
                    for _ in range(rng.randint(3, 8))
                )
                parts.append(
                    "<table><thead><tr><th>Name</th><th>Type</th><th>Description</th></tr>"
                    f"</thead><tbody>{rows}</tbody></table>"
                )
            if rng.random() < 0.15:
                parts.append(f"<h3>{_title(rng)}</h3><p>{_sentence(rng)} {_sentence(rng)}</p>")
        return "".join(parts)

    documents: dict[str, bytes] = {"/robots.txt": ROBOTS.encode()}
    home_links = "".join(
        f'<li><a href="/docs/{name}/">{section_title(name)}</a>: {_sentence(rng, 5, 10)}</li>'
        for name in sections
    )
    documents["/"] = frame(
        "/",
        "Acme documentation",
        "",
        "Home",
        f"<h1>Acme documentation</h1><p>{_sentence(rng)} {_sentence(rng)}</p><ul>{home_links}</ul>",
        "",
    )
    for name in _STATIC_PAGES:
        path = f"/{name}.html"
        article = f"<h1>{name.capitalize()}</h1>" + "".join(
            f"<p>{_sentence(rng)} {_sentence(rng)} {_sentence(rng)}</p>" for _ in range(4)
        )
        documents[path] = frame(path, name.capitalize(), "", '<a href="/">Home</a>', article, "")
    for name in sections:
        path = f"/docs/{name}/"
        listing = "".join(
            f'<li><a href="{page}">{title}</a> {_sentence(rng, 5, 12)}</li>'
            for page, title in by_section[name]
        )
        article = (
            f"<h1>{section_title(name)}</h1><p>{_sentence(rng)} {_sentence(rng)}</p>"
            f"<ul>{listing}</ul>"
        )
        crumbs = f'<a href="/">Home</a> / {section_title(name)}'
        documents[path] = frame(
            path, section_title(name), sidebar_for(name, 0), crumbs, article, ""
        )
    for name in sections:
        entries = by_section[name]
        for index, (path, title) in enumerate(entries):
            crumbs = (
                f'<a href="/">Home</a> / <a href="/docs/{name}/">{section_title(name)}</a>'
                f" / {title}"
            )
            article = f"<h1>{title}</h1>{body_blocks()}"
            prev_path, prev_title = entries[index - 1]
            next_path, next_title = entries[(index + 1) % len(entries)]
            related = "".join(
                f'<li><a href="{p}">{t}</a></li>' for p, t in rng.sample(all_pages, 5)
            )
            extra = (
                f'<nav class="pager"><a rel="prev" href="{prev_path}">{prev_title}</a>'
                f'<a rel="next" href="{next_path}#top">{next_title}</a></nav>'
                f'<section class="related"><h2>Related pages</h2><ul>{related}</ul></section>'
                '<div class="feedback">Was this page helpful? <button>Yes</button>'
                "<button>No</button></div>"
            )
            documents[path] = frame(path, title, sidebar_for(name, index), crumbs, article, extra)
    site = Site(documents)
    assert site.html_pages == pages, (site.html_pages, pages)
    return site


# -- the server -------------------------------------------------------------------------


def serve(pages: int, seed: int, port_out: Any) -> None:
    """Serve the site from memory (aiohttp, one process, access log off)."""
    from aiohttp import web

    site = build_site(pages, seed)
    responses: dict[str, tuple[bytes, dict[str, str]]] = {}
    for path, body in site.documents.items():
        kind = "text/plain; charset=utf-8" if path == "/robots.txt" else "text/html; charset=utf-8"
        headers = {
            "Content-Type": kind,
            "ETag": '"' + hashlib.md5(body).hexdigest() + '"',  # noqa: S324 - not security
            "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT",
            "Cache-Control": "max-age=600",
        }
        responses[path] = (body, headers)
    not_found = (b"<html><body><h1>Not found</h1></body></html>", {"Content-Type": "text/html"})
    hits = {"requests": 0, "ok": 0, "not_found": 0}
    paths: set[str] = set()
    cpu = [time.process_time()]

    async def handle(request: web.Request) -> web.Response:
        path = request.path
        if path == STATS_PATH:
            stats = dict(hits, distinct=len(paths), cpu_s=round(time.process_time() - cpu[0], 2))
            cpu[0] = time.process_time()
            hits.update(requests=0, ok=0, not_found=0)
            paths.clear()
            return web.json_response(stats)
        hits["requests"] += 1
        paths.add(path)
        found = responses.get(path)
        if found is None:
            hits["not_found"] += 1
            return web.Response(status=404, body=not_found[0], headers=not_found[1])
        hits["ok"] += 1
        return web.Response(body=found[0], headers=found[1])

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        tcp = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await tcp.start()
        port_out.put(tcp._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


def server_stats(base: str) -> dict[str, Any]:
    """Requests served since the last call (and reset the counters)."""
    from urllib.request import urlopen

    with urlopen(base + STATS_PATH, timeout=10) as response:  # noqa: S310 - 127.0.0.1 only
        return dict(json.loads(response.read()))


# -- our modes (run in a child process of the project's interpreter) ---------------------


def _site_config(base: str, concurrency: int, pages: int) -> Any:
    from ingest.sources.web import WebSourceConfig

    return WebSourceConfig(
        seeds=[base + "/"],
        allow_private_network=True,  # the benchmark's server is on 127.0.0.1
        max_depth=5,
        max_pages=2 * pages + 100,
        concurrency=concurrency,
        per_host_concurrency=concurrency,
    )


def run_flow(base: str, store: Path, args: argparse.Namespace) -> dict[str, Any]:
    from flows.params import RunOptions
    from flows.web import ingest_web

    options = RunOptions(
        store=str(store),
        batch_size=args.batch_size,
        concurrency=args.batch_concurrency,
        workers=args.workers,
    )
    state: Any = asyncio.run(
        ingest_web(  # type: ignore[arg-type]
            site=_site_config(base, args.concurrency, args.pages),
            options=options,
            return_state=True,
        )
    )
    report = state.result(raise_on_failure=False)
    if not isinstance(report, dict):  # ItemsFailedError: the report is in the error
        report = report.report.model_dump(mode="json")  # type: ignore[union-attr]
    counts = report["counts"]
    return {
        "pages": counts["new"] + counts["updated"] + counts["unchanged"],
        "seconds": report["duration_s"],
        "counts": {k: v for k, v in counts.items() if v},
        "phases": {k: round(v["seconds"], 2) for k, v in report.get("phases", {}).items()},
    }


def run_crawl(base: str, args: argparse.Namespace) -> dict[str, Any]:
    from ingest.sources.web import WebSource

    async def crawl() -> dict[str, Any]:
        started = time.perf_counter()
        pages = 0
        async with WebSource(_site_config(base, args.concurrency, args.pages)) as source:
            async for batch in source.crawl(args.batch_size):
                pages += sum(1 for page in batch if page.result is not None)
        return {"pages": pages, "seconds": time.perf_counter() - started}

    return asyncio.run(crawl())


def run_loop(base: str, store_path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Crawl and `run_batch` (in a worker thread, as the flow's task does), no Prefect."""
    from ingest.models import BatchResult
    from ingest.parallel import cpu_pool
    from ingest.pipeline import BatchConfig, BatchContext, run_batch
    from ingest.sources.web import CrawledBatchSource, WebSource
    from ingest.store import open_store

    async def crawl() -> dict[str, Any]:
        started = time.perf_counter()
        pool = cpu_pool(args.workers)
        if pool is not None:
            for _ in range(args.workers):
                pool.submit(int)  # spawn the workers now, as the flow does
        totals = BatchResult()
        store = open_store(str(store_path))
        async with WebSource(_site_config(base, args.concurrency, args.pages)) as source:
            job_id = store.begin_job(source.source_id, "bench")
            pending: set[asyncio.Task[BatchResult]] = set()
            async for pages in source.crawl(args.batch_size):
                batch = CrawledBatchSource(source.source_id, pages)
                ctx = BatchContext(
                    source=batch,
                    store=store,
                    cpu_pool=pool,
                    config=BatchConfig(job_id=job_id, run_id="bench"),
                )
                while len(pending) >= args.batch_concurrency:
                    done, pending = await asyncio.wait(pending, return_when="FIRST_COMPLETED")
                    for task in done:
                        totals.merge(task.result())
                pending.add(asyncio.create_task(asyncio.to_thread(run_batch, batch.items, ctx)))
            for result in await asyncio.gather(*pending):
                totals.merge(result)
        store.close()
        counts = totals.counts
        return {
            "pages": counts.new + counts.updated + counts.unchanged,
            "seconds": time.perf_counter() - started,
            "counts": {k: v for k, v in counts.model_dump().items() if v},
        }

    return asyncio.run(crawl())


def _run_cpu(started: float) -> dict[str, float]:
    """CPU seconds spent since `started` (this process's time.process_time()) by this
    process, and by its extraction workers (their whole life: they start during the run);
    the ephemeral Prefect API server is left out (it is counted in the tree's CPU)."""
    import psutil  # type: ignore[import-untyped]

    workers = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            if "prefect" in " ".join(child.cmdline()):
                continue
            times = child.cpu_times()
        except psutil.Error:
            continue
        workers += times.user + times.system
    return {"main": time.process_time() - started, "workers": workers}


def _child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    if args.child == "flow":
        # Imports and the ephemeral API's start-up before the CPU clock starts: `seconds`
        # does not count them either.
        from prefect.client.orchestration import get_client

        import flows.web  # noqa: F401

        with get_client(sync_client=True) as client:
            client.hello()
    started = time.process_time()
    if args.child == "flow":
        result = run_flow(args.base, args.store, args)
    elif args.child == "loop":
        result = run_loop(args.base, args.store, args)
    else:
        result = run_crawl(args.base, args)
    result["run_cpu_s"] = _run_cpu(started)
    result["peak_rss_mb"] = _peak_rss_mb()
    print("RESULT " + json.dumps(result), flush=True)


# -- the parent ---------------------------------------------------------------------------


def ensure_venv(path: Path) -> Path:
    """The benchmark's own virtualenv with Scrapy, created on first use."""
    python = path / "bin" / "python"
    marker = path / ".requirements-sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    if not python.exists():
        print(f"creating {path} (Scrapy, only for this benchmark) ...", file=sys.stderr)
        venv.create(path, with_pip=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)
    marker.write_text(wanted)
    return python


def _child_env(work: Path, prefect_home: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)  # the ephemeral API, as a first-time user gets it
    if prefect_home is not None:
        # A database of its own: another process using ~/.prefect (a `prefect server
        # start`, other runs) would otherwise contend for the same SQLite file.
        prefect_home.mkdir(parents=True, exist_ok=True)
        env["PREFECT_HOME"] = str(prefect_home)
        env.pop("PREFECT_PROFILES_PATH", None)
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    # Batch results persist for resume: keep them out of the user's Prefect home.
    env["PREFECT_RESULTS_LOCAL_STORAGE_PATH"] = str(work / "prefect-results")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def _run_child(command: list[str], env: dict[str, str], label: str) -> dict[str, Any]:
    """Run one mode; its wall time, and the CPU time of its whole process tree (the
    ephemeral Prefect API server included), sampled every 0.1 s with psutil."""
    import threading

    import psutil  # type: ignore[import-untyped]

    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    cpu: dict[int, float] = {}
    roles: dict[int, str] = {}
    done = threading.Event()

    def sample() -> None:
        try:
            root = psutil.Process(process.pid)
        except psutil.NoSuchProcess:
            return
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for member in tree:
                try:
                    times = member.cpu_times()
                except psutil.Error:
                    continue
                cpu[member.pid] = times.user + times.system
                if member.pid not in roles:
                    try:
                        line = " ".join(member.cmdline())
                    except psutil.Error:
                        line = ""
                    roles[member.pid] = (
                        "main"
                        if member.pid == process.pid
                        else "prefect api"
                        if "prefect.server" in line
                        else "other"
                    )
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    line = next((line for line in stdout.splitlines() if line.startswith("RESULT ")), None)
    if process.returncode != 0 or line is None:
        sys.stderr.write(stdout[-4000:] + stderr[-4000:])
        raise SystemExit(f"{label} failed (exit {process.returncode})")
    result = dict(json.loads(line[len("RESULT ") :]))
    result["wall"] = wall
    result["cpu"] = sum(cpu.values())
    by_role: dict[str, float] = {}
    for pid, seconds in cpu.items():
        by_role[roles.get(pid, "other")] = by_role.get(roles.get(pid, "other"), 0.0) + seconds
    result["cpu_s"] = {role: round(seconds, 1) for role, seconds in by_role.items()}
    return result


def _cpu_idle() -> tuple[int, int]:
    """(idle, total) jiffies of the whole machine, from /proc/stat ((0, 0) elsewhere)."""
    try:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return 0, 0
    return values[3] + values[4], sum(values)


def measure(mode: str, base: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    env = _child_env(work, args.prefect_home)
    store = work / f"{mode}-{time.monotonic_ns()}.db"
    if mode == "scrapy":
        python = ensure_venv(args.scrapy_venv)
        command = [
            str(python),
            str(SPIDER),
            "--base",
            base,
            "--out",
            str(store),
            "--concurrency",
            str(args.concurrency),
            "--depth",
            "5",
        ]
    else:
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            "flow" if mode == "flow1" else mode,
            "--base",
            base,
            "--store",
            str(store),
            "--pages",
            str(args.pages),
            "--concurrency",
            str(args.concurrency),
            "--batch-size",
            str(args.batch_size),
            "--batch-concurrency",
            str(args.batch_concurrency),
            "--workers",
            str(1 if mode == "flow1" else args.workers),
        ]
    idle_before, total_before = _cpu_idle()
    result = _run_child(command, env, MODES[mode])
    idle_after, total_after = _cpu_idle()
    # The share of the machine nobody used while the mode ran: near 0 means the cores
    # were saturated (by this mode, or by other work on a shared machine).
    result["idle"] = (idle_after - idle_before) / max(1, total_after - total_before)
    result["server"] = server_stats(base)
    return result


def _rate(row: dict[str, Any], key: str = "seconds") -> float:
    return float(row["pages"] / row[key]) if row[key] else float("inf")


def _run_cpu_ms(row: dict[str, Any]) -> float:
    """CPU ms per page of the run itself: our process and its extraction workers during
    the run, or Scrapy's process from spider_opened to spider_closed."""
    return 1000 * sum(row.get("run_cpu_s", {}).values()) / row["pages"] if row["pages"] else 0.0


def print_table(
    runs: dict[str, list[dict[str, Any]]], modes: list[str], args: argparse.Namespace
) -> None:
    """Medians over the rounds; the ratio to Scrapy is the median of the ratios of the
    same round (modes interleaved, so each pair ran under similar load)."""
    median = statistics.median
    scrapy = runs.get("scrapy")
    print(
        f"\n{args.pages} pages, concurrency {args.concurrency} (per host too), "
        f"batch size {args.batch_size} x {args.batch_concurrency} in flight, "
        f"{args.workers} extraction workers, {os.cpu_count()} CPUs, "
        f"{args.rounds} round(s) interleaved: medians"
    )
    header = (
        f"{'mode':<26}{'pages':>7}{'seconds':>9}{'pages/s':>9}{'wall s':>8}{'peak RSS MB':>13}"
        f"{'CPU ms/page':>13}{'run CPU ms/page':>17}{'idle':>6}{'vs Scrapy':>11}"
    )
    print(header)
    print("-" * len(header))
    for mode in modes:
        keys = ["seconds", "wall"] if mode in ("flow", "flow1") else ["seconds"]
        for key in keys:
            rows = runs[mode]
            name = MODES[mode] + (", wall" if key == "wall" else "")
            ratio = "-"
            if scrapy:
                pairs = zip(rows, scrapy, strict=True)
                ratios = [_rate(row, key) / _rate(ref) for row, ref in pairs]
                ratio = f"{median(ratios):.2f}x"
            cpu = median(1000 * row["cpu"] / row["pages"] for row in rows if row["pages"])
            print(
                f"{name:<26}{median(r['pages'] for r in rows):>7.0f}"
                f"{median(r[key] for r in rows):>9.2f}{median(_rate(r, key) for r in rows):>9.0f}"
                f"{median(r['wall'] for r in rows):>8.1f}"
                f"{max(r['peak_rss_mb'] for r in rows):>13.0f}"
                f"{cpu:>13.1f}{median(_run_cpu_ms(r) for r in rows):>17.2f}"
                f"{median(r['idle'] for r in rows):>6.0%}{ratio:>11}"
            )
    print()
    for mode in modes:
        row = runs[mode][-1]
        extra = {
            k: row[k]
            for k in ("cpu_s", "run_cpu_s", "counts", "phases", "items", "responses")
            if k in row
        }
        print(f"{MODES[mode]} (last round): server {row['server']}, {extra}")
    flow = runs.get("flow")
    if flow and scrapy:
        ratios = [_rate(row) / _rate(ref) for row, ref in zip(flow, scrapy, strict=True)]
        factor = median(ratios)
        verdict = "meets" if factor >= 3 else "below"
        rounds = ", ".join(f"{ratio:.2f}" for ratio in ratios)
        print(
            f"\nours (flow, {args.workers} workers) / Scrapy pages/s: {factor:.2f}x "
            f"({verdict} the 3x target; per round: {rounds})"
        )
        ours_cpu = median(_run_cpu_ms(row) for row in flow)
        scrapy_cpu = median(_run_cpu_ms(row) for row in scrapy)
        cores = min(args.workers, os.cpu_count() or 1)
        print(
            f"CPU per page: Scrapy {scrapy_cpu:.2f} ms (one core at most), ours {ours_cpu:.2f} ms "
            f"(flow process and workers): with {cores} idle cores ours can reach at most "
            f"{cores * scrapy_cpu / ours_cpu:.2f}x Scrapy's pages/s; the idle column shows "
            "how much of the machine was left unused during each mode"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16, help="Requests in flight.")
    parser.add_argument(
        "--batch-size", type=int, default=200, help="Pages per flow batch (RunOptions' default)."
    )
    parser.add_argument("--batch-concurrency", type=int, default=2, help="Flow batches in flight.")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="Processes for extraction in our modes (RunOptions.workers; default: the cores).",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--modes",
        default="flow,flow1,crawl,scrapy",
        help=f"Comma-separated, run in this order: {', '.join(MODES)}.",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="Runs of each mode, interleaved (the order rotates each round); medians count.",
    )
    parser.add_argument("--scrapy-venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument(
        "--prefect-home",
        type=Path,
        default=DEFAULT_PREFECT_HOME,
        help="PREFECT_HOME of the flow's ephemeral API (its own database; the first run "
        "creates it, which takes longer but is not counted in seconds).",
    )
    parser.add_argument("--child", choices=["flow", "crawl", "loop"], help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown mode(s): {', '.join(sorted(unknown))}")
    if "scrapy" in modes:
        ensure_venv(args.scrapy_venv)  # before the clock matters

    ports: Any = multiprocessing.get_context("spawn").SimpleQueue()
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(args.pages, args.seed, ports), daemon=True
    )
    server.start()
    base = f"http://127.0.0.1:{ports.get()}"
    server_stats(base)  # reset the counters after the site's generation
    work = Path(tempfile.mkdtemp(prefix="ingest-bench-web-"))
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    try:
        for round_ in range(args.rounds):
            shift = round_ % len(modes)
            for mode in modes[shift:] + modes[:shift]:
                result = measure(mode, base, work, args)
                print(
                    f"round {round_ + 1}: {MODES[mode]}: {result['pages']} pages in "
                    f"{result['seconds']:.2f} s (wall {result['wall']:.1f} s, "
                    f"run CPU {_run_cpu_ms(result):.2f} ms/page, idle {result['idle']:.0%})",
                    file=sys.stderr,
                )
                runs[mode].append(result)
    finally:
        server.terminate()
        server.join()
        shutil.rmtree(work, ignore_errors=True)
    print_table(runs, modes, args)


if __name__ == "__main__":
    main()
