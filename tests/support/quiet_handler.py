"""The request handler the local test sites build on: HTTP/1.1, no access log, and one
call that answers a request."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    default_content_type = "text/html; charset=utf-8"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send(
        self, status: int, body: bytes = b"", content_type: str | None = None, **headers: str
    ) -> None:
        """Answer with `body`; a keyword header `Cache_Control` goes out as `Cache-Control`."""
        self.send_response(status)
        self.send_header("Content-Type", content_type or self.default_content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)
