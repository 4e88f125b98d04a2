"""The Prefect-free auth layer against real local servers: each scheme crawls a protected
site, credentials never reach another origin (checked by that server), a refused secret
stops the crawl with AuthenticationError, OAuth2 tokens are refreshed before expiry and on
a 401."""

from __future__ import annotations

import asyncio
import pickle
import secrets
from typing import Any

import pytest
from pydantic import SecretStr

from ingest.errors import AuthenticationError, ConfigurationError
from ingest.sources.web import CrawledPage, WebSource
from ingest.sources.web.auth import (
    ApiKeyCredential,
    BasicCredential,
    BearerCredential,
    Credential,
    OAuth2ClientCredential,
    OriginAuth,
    bound_origins,
)
from tests.support.auth_server import CLIENT_ID, USERNAME, Sites, auth_sites
from tests.support.web_helpers import config

SCHEMES = ["basic", "bearer", "api-key-header", "api-key-query", "oauth2"]


def credential(scheme: str, sites: Sites, secret: str) -> Credential:
    value = SecretStr(secret)
    if scheme == "basic":
        return BasicCredential(USERNAME, value)
    if scheme == "bearer":
        return BearerCredential(value)
    if scheme == "api-key-header":
        return ApiKeyCredential(value, "X-API-Key", "header")
    if scheme == "api-key-query":
        return ApiKeyCredential(value, "api_key", "query")
    return OAuth2ClientCredential(sites.token_url, CLIENT_ID, value, scopes=("docs.read",))


def crawl(sites: Sites, auth: OriginAuth, **options: Any) -> list[CrawledPage]:
    cfg = config([sites.seed], max_depth=30, **options)

    async def main() -> list[CrawledPage]:
        pages: list[CrawledPage] = []
        async with WebSource(cfg, auth=auth) as source:
            async for batch in source.crawl(20):
                pages.extend(batch)
        return pages

    return asyncio.run(main())


def bind(cred: Credential, sites: Sites) -> OriginAuth:
    return OriginAuth(cred, bound_origins([], [sites.seed]), label="intranet")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_each_scheme_crawls_the_protected_site_and_nothing_else_gets_the_secret(
    scheme: str,
) -> None:
    secret = f"s3cret-{secrets.token_hex(8)}"
    with auth_sites(scheme, secret) as sites:
        pages = crawl(sites, bind(credential(scheme, sites, secret), sites))
        protected = sites.protected.base
        fetched = {page.item.uri: page for page in pages}
        for i in range(sites.protected.pages):
            page = fetched[f"{protected}/page/{i}.html"]
            assert page.error is None, page.error
            assert page.result is not None
            assert b"Private page" in page.result.body
        assert sites.protected.refusals == 0
        # The other origin was linked and redirected to, and crawled (same host, other
        # port): it received requests, none of them with the credentials.
        outside = sites.outside_hits()
        assert {hit.path for hit in outside} >= {"/linked/0.html", "/landing.html"}
        assert not [hit for hit in outside if hit.carries(secret)]
        landing = fetched[f"{sites.elsewhere.base}/landing.html"].result
        assert landing is not None
        assert landing.redirects == (f"{protected}/away",)
        # Stored URIs never carry a query-string key.
        assert not [uri for uri in fetched if secret in uri]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_wrong_secret_stops_the_crawl_naming_the_origin(scheme: str) -> None:
    secret = f"right-{secrets.token_hex(8)}"
    wrong = f"wrong-{secrets.token_hex(8)}"
    with auth_sites(scheme, secret, pages=200) as sites:
        with pytest.raises(AuthenticationError) as caught:
            crawl(sites, bind(credential(scheme, sites, wrong), sites))
        message = str(caught.value)
        named = sites.token.base if scheme == "oauth2" and sites.token else sites.protected.base
        assert named in message
        assert "intranet" in message
        assert wrong not in message
        assert secret not in message
        assert wrong not in repr(caught.value.details)
        # Fails fast: a handful of requests, not the 200 pages.
        assert len(sites.protected.requests()) < 40
        assert sites.outside_hits() == []


def test_an_expiring_token_is_refreshed_before_it_expires() -> None:
    secret = secrets.token_hex(12)
    with auth_sites("oauth2", secret, pages=30, token_ttl=0.6) as sites:
        auth = bind(credential("oauth2", sites, secret), sites)
        pages = crawl(sites, auth, per_host_delay=0.05)
        assert all(page.error is None for page in pages), [p.error for p in pages if p.error]
        assert auth.token_fetches >= 2
        assert sites.protected.refusals == 0, "refreshed before expiry, so never refused"


def test_a_token_revoked_early_is_refreshed_once_on_401() -> None:
    secret = secrets.token_hex(12)
    # The endpoint says an hour, the site expires tokens after 0.4 s.
    options = {"pages": 30, "token_ttl": 0.4, "advertised_ttl": 3600}
    with auth_sites("oauth2", secret, **options) as sites:
        auth = bind(credential("oauth2", sites, secret), sites)
        pages = crawl(sites, auth, per_host_delay=0.05)
        protected = [p for p in pages if p.item.uri.startswith(sites.protected.base + "/page/")]
        assert len(protected) == 30
        assert all(page.error is None for page in protected)
        assert sites.protected.refusals >= 1
        assert auth.token_fetches >= 2


def test_the_token_request_goes_only_to_the_token_endpoint() -> None:
    secret = secrets.token_hex(12)
    with auth_sites("oauth2", secret) as sites:
        crawl(sites, bind(credential("oauth2", sites, secret), sites))
        assert sites.token is not None
        posts = sites.token.requests()
        assert posts
        assert all(hit.method == "POST" for hit in posts)
        assert all(b"grant_type=client_credentials" in hit.body for hit in posts)
        assert not [hit for hit in sites.protected.requests() if hit.method == "POST"]


def test_credentials_are_never_serialized_or_shown() -> None:
    secret = secrets.token_hex(12)
    cred = BasicCredential(USERNAME, SecretStr(secret))
    auth = OriginAuth(cred, {"https://example.org"}, label="intranet")
    for value in (cred, auth):
        assert secret not in repr(value)
        with pytest.raises(TypeError, match="never serialized"):
            pickle.dumps(value)
    assert auth.applies_to("https://example.org/a")
    assert not auth.applies_to("https://example.org:8443/a")
    assert not auth.applies_to("http://example.org/a")
    assert not auth.applies_to("https://sub.example.org/a")


def test_bound_origins_default_to_the_seeds_and_reject_non_http() -> None:
    seeds = ["https://Docs.Example.org:443/a?b=1", "http://127.0.0.1:8080/x"]
    assert bound_origins([], seeds) == {"https://docs.example.org", "http://127.0.0.1:8080"}
    assert bound_origins(["https://api.example.org/"], seeds) == {"https://api.example.org"}
    with pytest.raises(ConfigurationError, match="ftp://x"):
        bound_origins(["ftp://x"], seeds)
