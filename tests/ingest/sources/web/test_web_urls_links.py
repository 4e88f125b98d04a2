"""URL normalisation, scope, link extraction and sitemaps: pure functions, no server."""

from __future__ import annotations

import gzip

import pytest

from ingest.sources.web import Scope, WebSourceConfig, normalize_url, resolve_url
from ingest.sources.web.errors import SitemapError
from ingest.sources.web.links import extract_links
from ingest.sources.web.sitemaps import looks_like_sitemap, parse_sitemap


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("HTTP://Example.COM/a#frag", "http://example.com/a"),
        ("http://example.com:80/", "http://example.com/"),
        ("https://example.com:443/x", "https://example.com/x"),
        ("http://example.com:8080", "http://example.com:8080/"),
        ("http://example.com/%7euser/%2f/%c3%a9", "http://example.com/~user/%2F/%C3%A9"),
        ("http://example.com/a b/é", "http://example.com/a%20b/%C3%A9"),
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/a?", "http://example.com/a"),
        ("http://example.com/a?x=%41&y=1 2", "http://example.com/a?x=A&y=1%202"),
        ("http://user:secret@example.com/", "http://example.com/"),
        ("http://bücher.example/", "http://xn--bcher-kva.example/"),
        ("http://[::1]:8080/a", "http://[::1]:8080/a"),
        ("http://example.com./a", "http://example.com/a"),
        ("http://example.com/100%", "http://example.com/100%25"),
    ],
)
def test_normalize_url(raw: str, normal: str) -> None:
    assert normalize_url(raw) == normal


@pytest.mark.parametrize(
    "raw",
    ["mailto:a@b.c", "javascript:void(0)", "ftp://x/y", "/relative", "http://", "http://x:99999/"],
)
def test_normalize_url_refuses_what_is_not_http(raw: str) -> None:
    assert normalize_url(raw) is None


def test_sorted_query_is_optional() -> None:
    assert normalize_url("http://e.com/?b=2&a=1") == "http://e.com/?b=2&a=1"
    assert normalize_url("http://e.com/?b=2&a=1", sorted_query=True) == "http://e.com/?a=1&b=2"


def test_resolve_url() -> None:
    assert resolve_url("http://e.com/a/b.html", "../c.html#x") == "http://e.com/c.html"
    assert resolve_url("http://e.com/a/", "//other.org/p") == "http://other.org/p"
    assert resolve_url("http://e.com/a/", "#top") is None
    assert resolve_url("http://e.com/a/", "mailto:me@e.com") is None


def test_scope() -> None:
    cfg = WebSourceConfig(
        seeds=["http://Docs.example.com/guide/"],
        url_prefixes=["http://docs.example.com/guide/"],
        deny_patterns=[r"\.pdf$"],
    )
    scope = Scope(cfg)
    assert "http://docs.example.com/guide/a.html" in scope
    assert scope.refusal("http://docs.example.com/blog/") == "outside the allowed URL prefixes"
    assert "not an allowed domain" in (scope.refusal("http://example.com/guide/") or "")
    assert "deny pattern" in (scope.refusal("http://docs.example.com/guide/a.pdf") or "")
    wide = Scope(WebSourceConfig(seeds=["http://example.com/"], include_subdomains=True))
    assert "http://a.b.example.com/" in wide
    assert "http://badexample.com/" not in wide
    allow = Scope(WebSourceConfig(seeds=["http://example.com/"], allow_patterns=["/docs/"]))
    assert "http://example.com/docs/x" in allow
    assert "http://example.com/x" not in allow


def test_invalid_pattern_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="invalid regular expression"):
        WebSourceConfig(seeds=["http://e.com/"], deny_patterns=["("])


HTML = b"""<html><head><base href="/docs/"><link rel="Canonical" href="/docs/main.html">
</head><body>
<a href="a.html">a</a><a href="/b.html#x">b</a><a href="a.html#again">a again</a>
<a href="mailto:x@y.z">mail</a><a href="javascript:go()">js</a><a href="tel:123">tel</a>
<a href="https://other.org/" rel="nofollow noopener">other</a><area href="map.html">
<a>no href</a></body></html>"""


def test_extract_links() -> None:
    page = extract_links(HTML, "http://e.com/x/page.html")
    assert page.links == [
        "http://e.com/docs/a.html",
        "http://e.com/b.html",
        "https://other.org/",
        "http://e.com/docs/map.html",
    ]
    assert page.canonical == "http://e.com/docs/main.html"
    followed = extract_links(HTML, "http://e.com/x/page.html", respect_nofollow=True)
    assert "https://other.org/" not in followed.links


def test_robots_meta_nofollow() -> None:
    body = b'<meta name="robots" content="noindex, nofollow"><a href="/a">a</a>'
    assert extract_links(body, "http://e.com/").links == ["http://e.com/a"]
    page = extract_links(body, "http://e.com/", respect_nofollow=True)
    assert page.links == []
    assert page.nofollow
    assert page.noindex


def test_links_in_a_legacy_charset() -> None:
    body = '<a href="/caf\xe9">x</a>'.encode("latin-1")
    assert extract_links(body, "http://e.com/", charset="iso-8859-1").links == [
        "http://e.com/caf%C3%A9"
    ]


def _sitemap(tag: str, entry: str, urls: list[str]) -> bytes:
    items = "".join(
        f"<{entry}><loc> {u} </loc><lastmod>2024-01-01</lastmod></{entry}>" for u in urls
    )
    return f'<?xml version="1.0"?><{tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</{tag}>'.encode()


def test_sitemaps_plain_gzipped_and_index() -> None:
    urlset = _sitemap("urlset", "url", ["http://e.com/a", "http://e.com/b"])
    parsed = parse_sitemap(urlset, "http://e.com/s.xml", 1 << 20)
    assert parsed.kind == "urlset"
    assert parsed.urls == ["http://e.com/a", "http://e.com/b"]
    assert parse_sitemap(gzip.compress(urlset), "http://e.com/s.xml.gz", 1 << 20) == parsed
    assert looks_like_sitemap(gzip.compress(urlset))
    assert looks_like_sitemap(urlset)
    index = parse_sitemap(_sitemap("sitemapindex", "sitemap", ["http://e.com/s.xml"]), "u", 1 << 20)
    assert index.kind == "sitemapindex"
    assert index.urls == ["http://e.com/s.xml"]
    assert not looks_like_sitemap(b"<html><body>urlset</body></html>")


def test_sitemap_size_cap_and_xml_attacks() -> None:
    big = gzip.compress(_sitemap("urlset", "url", ["http://e.com/" + "a" * 100] * 1000))
    with pytest.raises(SitemapError, match="decompressed"):
        parse_sitemap(big, "http://e.com/big.xml.gz", 10_000)
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><urlset>&a;</urlset>'
    with pytest.raises(SitemapError, match="not acceptable XML"):
        parse_sitemap(bomb, "http://e.com/evil.xml", 1 << 20)
    with pytest.raises(SitemapError, match="not a sitemap"):
        parse_sitemap(b"<rss></rss>", "http://e.com/feed.xml", 1 << 20)
    with pytest.raises(SitemapError, match="not acceptable XML"):
        parse_sitemap(b"<urlset><url>", "http://e.com/broken.xml", 1 << 20)
