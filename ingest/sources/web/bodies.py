"""Reading a streamed response body under a cap counted after decompression,
so neither a huge body nor a compression bomb is ever held whole in memory."""

from __future__ import annotations

import zlib

import httpx

from .errors import ContentDecodingError, ResponseTooLargeError

ACCEPT_ENCODING = "gzip, deflate"


class _Inflater:
    """zlib decompression that never produces more than asked for at once."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._first = True
        wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._inflater = zlib.decompressobj(wbits)

    def feed(self, data: bytes, limit: int) -> bytes:
        if self._first and self._encoding == "deflate" and len(data) >= 2:
            self._first = False
            # "deflate" is zlib-wrapped by the RFC but raw from some servers.
            if data[0] & 0x0F != 8 or (data[0] * 256 + data[1]) % 31:
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._inflater.decompress(data, limit)

    @property
    def unconsumed(self) -> bytes:
        return self._inflater.unconsumed_tail

    def flush(self) -> bytes:
        return self._inflater.flush()


def declared_too_large(response: httpx.Response, max_bytes: int) -> int | None:
    """The Content-Length when it is over `max_bytes` (and the body is not compressed)."""
    raw = response.headers.get("content-length")
    if raw is None or not raw.strip().isdigit():
        return None
    length = int(raw)
    return length if length > max_bytes else None


def declared_type(response: httpx.Response) -> str | None:
    """The media type of the Content-Type header, lower-cased, without parameters."""
    value = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return value or None


async def read_body(
    response: httpx.Response, url: str, max_bytes: int, *, truncate: bool = False
) -> bytes:
    """The decoded body, at most `max_bytes`; over that it raises ResponseTooLargeError,
    or returns the first `max_bytes` when `truncate` is set."""
    declared = declared_too_large(response, max_bytes)
    if declared is not None and not truncate:
        raise ResponseTooLargeError(
            f"{url} declares {declared} bytes (Content-Length), over the cap of {max_bytes}",
            uri=url,
            details={
                "max_bytes": max_bytes,
                "content_length": declared,
                "content_type": declared_type(response),
            },
        )
    encodings = [
        part.strip().lower()
        for part in response.headers.get("content-encoding", "").split(",")
        if part.strip() and part.strip().lower() != "identity"
    ]
    if len(encodings) > 1 or (encodings and encodings[0] not in ("gzip", "x-gzip", "deflate")):
        raise ContentDecodingError(
            f"{url} uses an unsupported Content-Encoding: {', '.join(encodings)}",
            uri=url,
            details={"content_encoding": encodings},
        )
    inflater = _Inflater(encodings[0]) if encodings else None
    body = bytearray()
    try:
        async for chunk in response.aiter_raw():
            if inflater is None:
                body += chunk
            else:
                data = chunk
                while data:
                    body += inflater.feed(data, max_bytes + 1 - len(body))
                    if len(body) > max_bytes:
                        break
                    data = inflater.unconsumed
            if len(body) > max_bytes:
                break
        if inflater is not None and len(body) <= max_bytes:
            body += inflater.flush()[: max_bytes + 1 - len(body)]
    except zlib.error as exc:
        raise ContentDecodingError(
            f"the {encodings[0]} body of {url} is corrupt: {exc}", uri=url
        ) from exc
    if len(body) > max_bytes:
        if truncate:
            return bytes(body[:max_bytes])
        raise ResponseTooLargeError(
            f"the body of {url} is over the cap of {max_bytes} bytes (cut while streaming)",
            uri=url,
            details={"max_bytes": max_bytes},
        )
    return bytes(body)
