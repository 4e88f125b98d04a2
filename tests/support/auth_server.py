"""Real HTTP servers on 127.0.0.1 for the credential tests: a site that requires one scheme
(Basic, Bearer, API key in a header or the query, OAuth2 bearer tokens), an OAuth2 token
endpoint issuing short-lived tokens, and a plain "elsewhere" site on another port that the
protected site links and redirects to. Every server records each request it receives."""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.quiet_handler import QuietHandler

USERNAME = "crawler"
CLIENT_ID = "ingest-client"


@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    def carries(self, secret: str) -> bool:
        """The secret, or a Basic header built from it, anywhere in the request."""
        basic = base64.b64encode(f"{USERNAME}:{secret}".encode()).decode()
        text = self.path + " " + " ".join(self.headers.values()) + self.body.decode("latin-1")
        return secret in text or basic in text or "authorization" in self.headers


@dataclass
class ServerState:
    """What a server requires and what it saw. `scheme` is one of basic, bearer,
    api-key-header, api-key-query, oauth2 (the token server's tokens), token-endpoint, open."""

    scheme: str = "open"
    secret: str = ""
    pages: int = 12
    elsewhere: str = ""
    token_ttl: float = 60.0
    advertised_ttl: float | None = None
    tokens: dict[str, float] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    refusals: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""
    serial: Iterator[int] = field(default_factory=itertools.count)

    def requests(self) -> list[Hit]:
        with self.lock:
            return list(self.hits)

    def paths(self) -> list[str]:
        return [hit.path for hit in self.requests()]


def page_html(i: int, state: ServerState) -> bytes:
    links = [f"/page/{(i + 1) % state.pages}.html", f"/page/{(i + 5) % state.pages}.html"]
    if state.elsewhere:
        links += [f"{state.elsewhere}/linked/{i}.html", "/away"]
    anchors = "".join(f'<li><a href="{href}">link</a></li>' for href in links)
    return (
        f"<!doctype html><html><head><title>Private page {i}</title></head><body>"
        f"<h1>Private page {i}</h1><p>{'Members only text. ' * 30}</p><ul>{anchors}</ul>"
        "</body></html>"
    ).encode()


class Handler(QuietHandler):
    server: AuthServer
    default_content_type = "text/html"

    def _record(self, body: bytes = b"") -> ServerState:
        state = self.server.state
        with state.lock:
            headers = {name.lower(): value for name, value in self.headers.items()}
            state.hits.append(Hit(self.command, self.path, headers, body))
        return state

    # -- the protected site and the elsewhere site ------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        state = self._record()
        if state.scheme == "token-endpoint":
            self.send(405, b"")
            return
        if not self._authorized(state):
            with state.lock:
                state.refusals += 1
            self.send(401, b"<html><body>Please log in</body></html>", WWW_Authenticate="Basic")
            return
        path = urlsplit(self.path).path
        if path == "/robots.txt":
            self.send(200, b"User-agent: *\nAllow: /\n", "text/plain")
        elif path == "/away":
            self.send(302, b"", Location=f"{state.elsewhere}/landing.html")
        elif path.startswith("/page/") and path.endswith(".html"):
            number = path[len("/page/") : -len(".html")]
            if number.isdigit() and int(number) < state.pages:
                self.send(200, page_html(int(number), state))
            else:
                self.send(404, b"not found")
        else:
            self.send(200, f"<html><body><p>public {path}</p></body></html>".encode())

    def _authorized(self, state: ServerState) -> bool:
        header = self.headers.get("Authorization", "")
        if state.scheme == "open":
            return True
        if state.scheme == "basic":
            expected = base64.b64encode(f"{USERNAME}:{state.secret}".encode()).decode()
            return header == f"Basic {expected}"
        if state.scheme == "bearer":
            return header == f"Bearer {state.secret}"
        if state.scheme == "api-key-header":
            return self.headers.get("X-API-Key") == state.secret
        if state.scheme == "api-key-query":
            return parse_qs(urlsplit(self.path).query).get("api_key") == [state.secret]
        if state.scheme == "oauth2":
            token = header.removeprefix("Bearer ")
            with state.lock:
                expires = state.tokens.get(token)
            return expires is not None and time.monotonic() < expires
        raise AssertionError(f"unknown scheme {state.scheme}")

    # -- the OAuth2 token endpoint ----------------------------------------------------------

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        state = self._record(body)
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        if state.scheme != "token-endpoint" or form.get("grant_type") != "client_credentials":
            self.send(400, b'{"error": "unsupported_grant_type"}', "application/json")
            return
        if client_id != CLIENT_ID or secret != state.secret:
            self.send(
                401,
                json.dumps(
                    {"error": "invalid_client", "error_description": f"bad {secret}"}
                ).encode(),
                "application/json",
            )
            return
        token = f"tok-{next(state.serial)}-{time.monotonic_ns()}"
        site = self.server.protected
        assert site is not None
        with site.lock:
            site.tokens[token] = time.monotonic() + state.token_ttl
        advertised = state.token_ttl if state.advertised_ttl is None else state.advertised_ttl
        reply = {"access_token": token, "token_type": "Bearer", "expires_in": advertised}
        self.send(200, json.dumps(reply).encode(), "application/json", Cache_Control="no-store")


class AuthServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, state: ServerState, protected: ServerState | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state
        self.protected = protected
        state.base = f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@contextmanager
def serving(state: ServerState, protected: ServerState | None = None) -> Iterator[ServerState]:
    server = AuthServer(state, protected)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Sites:
    """A protected site, the elsewhere site it links and redirects to, and (for oauth2) the
    token endpoint; `secret` is what the protected site or the token endpoint expects."""

    protected: ServerState
    elsewhere: ServerState
    token: ServerState | None

    @property
    def seed(self) -> str:
        return f"{self.protected.base}/page/0.html"

    @property
    def token_url(self) -> str:
        assert self.token is not None
        return f"{self.token.base}/token"

    def outside_hits(self) -> list[Hit]:
        """Requests to servers that must never see the credentials."""
        return self.elsewhere.requests()


@contextmanager
def auth_sites(scheme: str, secret: str, **options: Any) -> Iterator[Sites]:
    """Start the servers for `scheme` (basic, bearer, api-key-header, api-key-query,
    oauth2); `options` go to the protected site (pages, token_ttl, advertised_ttl)."""
    token_ttl = options.pop("token_ttl", 60.0)
    advertised = options.pop("advertised_ttl", None)
    with serving(ServerState()) as elsewhere:
        protected = ServerState(scheme=scheme, secret=secret, elsewhere=elsewhere.base, **options)
        with serving(protected):
            if scheme != "oauth2":
                yield Sites(protected, elsewhere, None)
                return
            token = ServerState(
                scheme="token-endpoint",
                secret=secret,
                token_ttl=token_ttl,
                advertised_ttl=advertised,
            )
            with serving(token, protected):
                yield Sites(protected, elsewhere, token)
