"""Credentials of the web source and the httpx auth flow that sends them only to the origins
they are bound to. No Prefect here: `blocks/` builds these credentials from saved blocks.

A credential never leaves memory: secrets are `SecretStr`, unwrapped only while a request is
being signed, and a credential or an `OriginAuth` refuses to be pickled, so it cannot end up
in a persisted result or a cache by accident.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import AsyncGenerator, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn

import httpx
from pydantic import SecretStr

from ...errors import AuthenticationError, ConfigurationError
from .urls import normalize_url, origin

#: Statuses that mean "these credentials are refused" once they were sent.
REFUSED_STATUSES = frozenset({401, 403})


class _NotSerializable:
    """Credentials live in memory only; pickling one is a bug, so it fails loudly."""

    def __reduce__(self) -> NoReturn:
        raise TypeError(f"{type(self).__name__} holds a secret and is never serialized")


@dataclass(frozen=True, repr=False)
class BasicCredential(_NotSerializable):
    """HTTP Basic authentication (RFC 7617)."""

    username: str
    password: SecretStr
    kind: str = field(default="basic", init=False)

    def headers(self) -> dict[str, str]:
        raw = f"{self.username}:{self.password.get_secret_value()}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


@dataclass(frozen=True, repr=False)
class BearerCredential(_NotSerializable):
    """A static bearer token (RFC 6750), sent as `Authorization: Bearer ...`."""

    token: SecretStr
    kind: str = field(default="bearer", init=False)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token.get_secret_value()}"}


@dataclass(frozen=True, repr=False)
class ApiKeyCredential(_NotSerializable):
    """An API key sent in a header (`X-API-Key: ...`, or `Authorization: <prefix> ...`)
    or as a query parameter."""

    key: SecretStr
    name: str = "X-API-Key"
    location: Literal["header", "query"] = "header"
    prefix: str | None = None
    kind: str = field(default="api-key", init=False)

    def headers(self) -> dict[str, str]:
        if self.location != "header":
            return {}
        value = self.key.get_secret_value()
        return {self.name: f"{self.prefix} {value}" if self.prefix else value}

    def params(self) -> dict[str, str]:
        if self.location != "query":
            return {}
        return {self.name: self.key.get_secret_value()}


@dataclass(frozen=True, repr=False)
class OAuth2ClientCredential(_NotSerializable):
    """The OAuth 2.0 client credentials grant (RFC 6749 section 4.4)."""

    token_url: str
    client_id: str
    client_secret: SecretStr
    scopes: tuple[str, ...] = ()
    audience: str | None = None
    extra_params: tuple[tuple[str, str], ...] = ()
    client_auth: Literal["basic", "body"] = "basic"
    refresh_margin: float = 30.0
    kind: str = field(default="oauth2", init=False)

    def token_request(self) -> httpx.Request:
        form: dict[str, str] = {"grant_type": "client_credentials"}
        if self.scopes:
            form["scope"] = " ".join(self.scopes)
        if self.audience:
            form["audience"] = self.audience
        form.update(dict(self.extra_params))
        headers = {"Accept": "application/json"}
        if self.client_auth == "basic":
            headers.update(BasicCredential(self.client_id, self.client_secret).headers())
        else:
            form["client_id"] = self.client_id
            form["client_secret"] = self.client_secret.get_secret_value()
        return httpx.Request("POST", self.token_url, data=form, headers=headers)


Credential = BasicCredential | BearerCredential | ApiKeyCredential | OAuth2ClientCredential


def origin_of(url: str | httpx.URL) -> str | None:
    """scheme://host[:port] of a URL as the crawler spells it (default port dropped)."""
    normalized = normalize_url(str(url))
    return origin(normalized) if normalized else None


def bound_origins(origins: Iterable[str], seeds: Iterable[str]) -> frozenset[str]:
    """The origins a credential may be sent to: those given, else the seeds' origins.
    Raises ConfigurationError for an origin that is not an http(s) URL."""
    chosen = list(origins) or list(seeds)
    result: set[str] = set()
    for url in chosen:
        site = origin_of(url)
        if site is None:
            raise ConfigurationError(
                f"credential origin {url!r} is not an http or https URL", details={"origin": url}
            )
        result.add(site)
    return frozenset(result)


@dataclass
class _Token:
    value: SecretStr
    refresh_at: float


class OriginAuth(httpx.Auth, _NotSerializable):
    """An httpx auth flow that signs only requests to `origins`; any other request
    (another site, a cross-origin redirect hop, an off-site link) goes out untouched.

    For OAuth 2.0 it fetches a token on first use, keeps it until shortly before it
    expires, and refreshes it then or once on a 401. A token endpoint that refuses the
    client raises `AuthenticationError` naming its origin.
    """

    def __init__(self, credential: Credential, origins: Iterable[str], *, label: str) -> None:
        self.credential = credential
        self.origins = frozenset(origins)
        if not self.origins:
            raise ConfigurationError(f"credentials {label!r} are bound to no origin")
        self.label = label
        self._token: _Token | None = None
        self._async_lock: asyncio.Lock | None = None
        self._sync_lock = threading.Lock()
        self.token_fetches = 0

    def __repr__(self) -> str:
        return f"OriginAuth({self.label!r}, {self.credential.kind}, {sorted(self.origins)})"

    def applies_to(self, url: str | httpx.URL) -> bool:
        return origin_of(url) in self.origins

    def refused(self, url: str, status: int) -> AuthenticationError:
        """The error for a 401/403 answered to a signed request."""
        site = origin_of(url) or url
        hint = "expired or revoked" if status == 401 else "not allowed here"
        return AuthenticationError(
            f"{site} refused the credentials {self.label!r} ({self.credential.kind}) "
            f"with HTTP {status}: wrong secret, or {hint}; the crawl stopped",
            uri=url,
            details={"origin": site, "status": status, "credentials": self.label},
        )

    # -- signing ---------------------------------------------------------------------------

    def _sign(self, request: httpx.Request, token: SecretStr | None = None) -> httpx.Request:
        credential = self.credential
        if isinstance(credential, OAuth2ClientCredential):
            assert token is not None
            request.headers["Authorization"] = f"Bearer {token.get_secret_value()}"
            return request
        request.headers.update(credential.headers())
        if isinstance(credential, ApiKeyCredential) and credential.location == "query":
            request.url = request.url.copy_merge_params(credential.params())
        return request

    def _fresh(self) -> _Token | None:
        token = self._token
        return token if token is not None and time.monotonic() < token.refresh_at else None

    def _store_token(self, response: httpx.Response, credential: OAuth2ClientCredential) -> _Token:
        site = origin_of(credential.token_url) or credential.token_url
        if response.status_code != 200:
            code = _oauth_error_code(response.content)
            because = f" ({code})" if code else ""
            raise AuthenticationError(
                f"the token endpoint {site} refused the client credentials {self.label!r} "
                f"with HTTP {response.status_code}{because}",
                uri=credential.token_url,
                details={"origin": site, "status": response.status_code, "error": code},
            )
        try:
            data = json.loads(response.content)
            access = data["access_token"]
            expires_in = float(data.get("expires_in") or 3600)
            if not isinstance(access, str) or not access:
                raise ValueError("empty access_token")
        except (ValueError, KeyError, TypeError) as exc:
            raise AuthenticationError(
                f"the token endpoint {site} sent no usable access token for {self.label!r}",
                uri=credential.token_url,
                details={"origin": site, "error": type(exc).__name__},
            ) from None
        margin = min(credential.refresh_margin, expires_in / 2)
        self.token_fetches += 1
        self._token = _Token(SecretStr(access), time.monotonic() + expires_in - margin)
        return self._token

    def _drop(self, used: _Token) -> None:
        if self._token is used:  # another request may have refreshed it already
            self._token = None

    # -- the flows -------------------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        credential = self.credential
        if not self.applies_to(request.url):
            yield request
            return
        if not isinstance(credential, OAuth2ClientCredential):
            yield self._sign(request)
            return
        for attempt in range(2):
            with self._sync_lock:
                token = self._fresh()
                if token is None:
                    reply = yield credential.token_request()
                    reply.read()
                    token = self._store_token(reply, credential)
            response = yield self._sign(request, token.value)
            if response.status_code != 401 or attempt:
                return
            self._drop(token)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        credential = self.credential
        if not self.applies_to(request.url):
            yield request
            return
        if not isinstance(credential, OAuth2ClientCredential):
            yield self._sign(request)
            return
        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        for attempt in range(2):
            async with self._async_lock:
                token = self._fresh()
                if token is None:
                    reply = yield credential.token_request()
                    await reply.aread()
                    token = self._store_token(reply, credential)
            response = yield self._sign(request, token.value)
            if response.status_code != 401 or attempt:
                return
            self._drop(token)


def _oauth_error_code(body: bytes) -> str | None:
    """The RFC 6749 `error` code of a token error response (a fixed vocabulary, so it
    cannot carry a secret); the free-text description is not kept."""
    try:
        code = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return None
    known = {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    }
    return code if code in known else None


def describe(credential: Credential) -> dict[str, Any]:
    """What may be shown about a credential: its kind and non-secret settings."""
    shown: dict[str, Any] = {"kind": credential.kind}
    if isinstance(credential, BasicCredential):
        shown["username"] = credential.username
    elif isinstance(credential, ApiKeyCredential):
        shown.update(name=credential.name, location=credential.location)
    elif isinstance(credential, OAuth2ClientCredential):
        shown.update(token_url=credential.token_url, client_id=credential.client_id)
    return shown
