"""URL normalisation (one spelling per resource) and the crawl scope built from the config."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from .config import WebSourceConfig

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE = _UNRESERVED | frozenset("!$&'()*+,;=:@/")
_QUERY_SAFE = _PATH_SAFE | frozenset("?")
_HEX = "0123456789ABCDEFabcdef"
# Strings made only of these need no percent-encoding work (the common case).
_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*")


def _normalize_escapes(text: str, safe: frozenset[str]) -> str:
    """Decode escaped unreserved characters, upper-case the other escapes, escape the rest."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "%":
            hex_pair = text[i + 1 : i + 3]
            if len(hex_pair) == 2 and hex_pair[0] in _HEX and hex_pair[1] in _HEX:
                decoded = chr(int(hex_pair, 16))
                out.append(decoded if decoded in _UNRESERVED else "%" + hex_pair.upper())
                i += 3
                continue
            out.append("%25")
        elif char in safe:
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    if "/." not in path:
        return path
    output: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    trailing = "/" if path.rsplit("/", 1)[-1] in (".", "..") else ""
    return "/" + "/".join(output) + trailing


def _sort_query(query: str) -> str:
    return "&".join(sorted(part for part in query.split("&") if part))


def _host(hostname: str) -> str | None:
    host = hostname.rstrip(".").lower()
    if not host:
        return None
    if ":" in host:  # IPv6 literal
        return f"[{host}]"
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if any(char in host for char in " %/\\@[]"):
        return None
    return host


def normalize_url(url: str, *, sorted_query: bool = False) -> str | None:
    """The normal form of an absolute http(s) URL, or None when it is not one.

    Fragment and user info are dropped, scheme and host lower-cased, default ports
    removed, dot segments resolved and percent-encoding normalised.
    """
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        port = parts.port
    except ValueError:
        return None
    host = _host(parts.hostname)
    if host is None:
        return None
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = parts.path or "/"
    if not _PLAIN_PATH.fullmatch(path) or "%" in path:
        path = _normalize_escapes(path, _PATH_SAFE)
    path = _remove_dot_segments(path)
    query = parts.query
    if query:
        if not _PLAIN_QUERY.fullmatch(query):
            query = _normalize_escapes(query, _QUERY_SAFE)
        if sorted_query:
            query = _sort_query(query)
    return f"{scheme}://{netloc}{path}?{query}" if query else f"{scheme}://{netloc}{path}"


def resolve_url(base: str, href: str, *, sorted_query: bool = False) -> str | None:
    """`href` made absolute against `base` and normalised; None unless it is http(s)."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    try:
        joined = urljoin(base, href)
    except ValueError:
        return None
    return normalize_url(joined, sorted_query=sorted_query)


def origin(url: str) -> str:
    """scheme://host[:port] of a normalised URL."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def host_of(url: str) -> str:
    """The host of a normalised URL, without port or IPv6 brackets."""
    netloc = url.partition("://")[2].split("/", 1)[0]
    if netloc.startswith("["):
        return netloc[1 : netloc.index("]")]
    return netloc.rsplit(":", 1)[0] if ":" in netloc else netloc


def host_port(url: str) -> tuple[str, int]:
    """(host, port) of a normalised URL, with the scheme's default port filled in."""
    scheme, _, rest = url.partition("://")
    netloc = rest.split("/", 1)[0]
    host = host_of(url)
    tail = netloc.rsplit("]", 1)[-1]
    if ":" in tail:
        return host, int(tail.rsplit(":", 1)[1])
    return host, _DEFAULT_PORTS[scheme]


class Scope:
    """Decides which normalised URLs belong to the crawl; None means in scope, else why not."""

    def __init__(self, config: WebSourceConfig) -> None:
        seeds = [normalize_url(seed, sorted_query=config.sorted_query) for seed in config.seeds]
        domains = config.allowed_domains or [host_of(seed) for seed in seeds if seed]
        self._hosts = frozenset(domain.lower().rstrip(".") for domain in domains)
        sitemaps = [normalize_url(url, sorted_query=config.sorted_query) for url in config.sitemaps]
        self._sitemap_hosts = self._hosts | {host_of(url) for url in sitemaps if url}
        self._subdomains = config.include_subdomains
        self._suffixes = tuple("." + host for host in self._hosts)
        self._prefixes = tuple(
            normalized
            for prefix in config.url_prefixes
            if (normalized := normalize_url(prefix, sorted_query=config.sorted_query))
        )
        self._allow = [re.compile(pattern) for pattern in config.allow_patterns]
        self._deny = [re.compile(pattern) for pattern in config.deny_patterns]

    def refusal(self, url: str) -> str | None:
        reason = self._host_refusal(url, self._hosts)
        if reason is not None:
            return reason
        if self._prefixes and not url.startswith(self._prefixes):
            return "outside the allowed URL prefixes"
        if self._allow and not any(pattern.search(url) for pattern in self._allow):
            return "matches no allow pattern"
        for pattern in self._deny:
            if pattern.search(url):
                return f"matches the deny pattern {pattern.pattern!r}"
        return None

    def sitemap_refusal(self, url: str) -> str | None:
        """Why a sitemap may not be fetched: only its host counts (a sitemap usually
        sits outside the prefixes and patterns that select pages)."""
        return self._host_refusal(url, self._sitemap_hosts)

    def _host_refusal(self, url: str, hosts: frozenset[str]) -> str | None:
        host = host_of(url)
        if host in hosts or (self._subdomains and host.endswith(self._suffixes)):
            return None
        return f"host {host} is not an allowed domain"

    def __contains__(self, url: str) -> bool:
        return self.refusal(url) is None
