"""Crawl links: the links and fingerprint last seen on each crawled page or
sitemap, so an unchanged (304) page's links are still followed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, select

from ..base import StoredLinks
from ..schema import crawl_links
from .statements import upsert


def write_links(
    conn: Connection, source_id: str, records: list[StoredLinks], now: datetime
) -> None:
    rows = [
        {
            "source_id": source_id,
            "url": record.url,
            "kind": record.kind,
            "fingerprint": record.fingerprint,
            "links": list(record.links),
            "updated_at": now,
        }
        for record in sorted(records, key=lambda r: r.url)
    ]
    update = ["kind", "fingerprint", "links", "updated_at"]
    conn.execute(upsert(conn, crawl_links, ["source_id", "url"], update), rows)


def iter_links(conn: Connection, source_id: str) -> Iterator[StoredLinks]:
    rows = conn.execute(
        select(
            crawl_links.c.url,
            crawl_links.c.kind,
            crawl_links.c.fingerprint,
            crawl_links.c.links,
        )
        .where(crawl_links.c.source_id == source_id)
        .order_by(crawl_links.c.url)
    )
    for row in rows:
        # Built without validation: a large site has millions of links.
        yield StoredLinks.model_construct(
            url=row.url, kind=row.kind, fingerprint=row.fingerprint, links=row.links or []
        )
