"""The Scrapy side of benchmarks/bench_web.py; runs only in the benchmark's own virtualenv
(benchmarks/.venv-scrapy, from benchmarks/requirements-scrapy.txt), never with the project.

    benchmarks/.venv-scrapy/bin/python benchmarks/scrapy_spider.py --base http://127.0.0.1:PORT \
        --out pages.db --concurrency 16

The same work as our pipeline, the Scrapy way: robots.txt obeyed, every page parsed,
its main text extracted with trafilatura (the options our HTML processor uses), its
links in scope followed (LinkExtractor; Scrapy's offsite filter, duplicate filter and
depth limit), and one item per page written to SQLite by an item pipeline (executemany,
one transaction per 100 items, WAL). Prints `RESULT {json}`: pages stored, seconds from
spider_opened to spider_closed, peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import resource
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.http import HtmlResponse
from scrapy.linkextractors import LinkExtractor
from trafilatura import bare_extraction

_TIMES: dict[str, float] = {}


def _our_extractor() -> Any:
    """ingest/processors/html_extractor.py, loaded by path: the project is not installed here."""
    path = Path(__file__).resolve().parent.parent / "ingest" / "processors" / "html_extractor.py"
    spec = importlib.util.spec_from_file_location("html_extractor", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_EXTRACTOR = _our_extractor()


def extract(html: str, url: str) -> Any:
    """trafilatura with our HTML processor's settings and options."""
    return bare_extraction(html, url=url, config=_EXTRACTOR.config(), **_EXTRACTOR.OPTIONS)


class SiteSpider(scrapy.Spider):
    name = "bench-site"

    def __init__(self, base: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        parts = urlsplit(base)
        self.start_urls = [base.rstrip("/") + "/"]
        self.allowed_domains = [parts.hostname or "127.0.0.1"]
        # LinkExtractor compares domains with the URL's netloc, port included.
        self.links = LinkExtractor(allow_domains=[parts.netloc])

    async def start(self) -> Any:  # Scrapy >= 2.13
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Any:
        # Start requests bypass the duplicate filter by default, so the home page,
        # linked from every page, would be fetched twice.
        for url in self.start_urls:
            yield scrapy.Request(url, dont_filter=False)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SiteSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.closed_signal, signal=signals.spider_closed)
        return spider

    def opened(self, spider: Any) -> None:
        _TIMES["opened"] = time.perf_counter()
        _TIMES["cpu_opened"] = time.process_time()

    def closed_signal(self, spider: Any) -> None:
        _TIMES["closed"] = time.perf_counter()
        _TIMES["cpu_closed"] = time.process_time()

    def parse(self, response: Any) -> Any:
        if not isinstance(response, HtmlResponse):
            return
        links = self.links.extract_links(response)
        document = extract(response.text, response.url)
        text = document.text if document is not None else ""
        title = response.css("title::text").get()
        yield {
            "url": response.url,
            "title": title,
            "text": text or "",
            "content_hash": hashlib.sha256(response.body).hexdigest(),
            "links": [link.url for link in links],
        }
        for link in links:
            yield response.follow(link, callback=self.parse)


class SqlitePipeline:
    """Items to SQLite in batches of 100 rows, one transaction each."""

    batch = 100

    def open_spider(self, spider: Any = None) -> None:
        self.db = sqlite3.connect(OUT)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS pages (url TEXT PRIMARY KEY, title TEXT, text TEXT,"
            " content_hash TEXT, links TEXT, stored_at REAL)"
        )
        self.rows: list[tuple[Any, ...]] = []

    def process_item(self, item: dict[str, Any], spider: Any = None) -> dict[str, Any]:
        self.rows.append(
            (
                item["url"],
                item["title"],
                item["text"],
                item["content_hash"],
                json.dumps(item["links"]),
                time.time(),
            )
        )
        if len(self.rows) >= self.batch:
            self.flush()
        return item

    def flush(self) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?)", self.rows)
        self.rows = []

    def close_spider(self, spider: Any = None) -> None:
        self.flush()
        self.db.close()


OUT = ""


def main() -> None:
    global OUT
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--depth", type=int, default=5)
    args = parser.parse_args()
    OUT = args.out
    process = CrawlerProcess(
        settings={
            "CONCURRENT_REQUESTS": args.concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": args.concurrency,
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "ROBOTSTXT_OBEY": True,
            "DEPTH_LIMIT": args.depth,
            "USER_AGENT": "scrapy-bench (+https://example.invalid/bot)",
            "ITEM_PIPELINES": {SqlitePipeline: 300},
            "LOG_LEVEL": os.environ.get("BENCH_SCRAPY_LOG", "WARNING"),
            "TELNETCONSOLE_ENABLED": False,
            "HTTPCACHE_ENABLED": False,
        }
    )
    crawler = process.create_crawler(SiteSpider)
    process.crawl(crawler, base=args.base)
    process.start()
    stats = crawler.stats.get_stats()
    with sqlite3.connect(OUT) as db:
        stored = db.execute("SELECT count(*) FROM pages").fetchone()[0]
    result = {
        "pages": stored,
        "seconds": _TIMES["closed"] - _TIMES["opened"],
        "run_cpu_s": {"main": _TIMES["cpu_closed"] - _TIMES["cpu_opened"]},
        "items": stats.get("item_scraped_count", 0),
        "responses": stats.get("response_received_count", 0),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
