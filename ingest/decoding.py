"""Bytes to text: BOMs first, then UTF-8, then charset detection; binary is refused."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from charset_normalizer import from_bytes

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SNIFF_BYTES = 8192
_CONTROL_BYTES = bytes(sorted(frozenset(range(0, 32)) - {9, 10, 12, 13, 27}))


@dataclass(frozen=True)
class Decoded:
    text: str | None
    encoding: str | None
    is_binary: bool
    reason: str | None = None


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters in the first block mean binary,
    unless a UTF-16/32 byte order mark explains the NULs."""
    head = data[:_SNIFF_BYTES]
    if not head:
        return False
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls / len(head) > 0.10


def decode_bytes(data: bytes) -> Decoded:
    """Decode `data`; never raises. `text` is None when the bytes are binary or
    no encoding explains them."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data[len(bom) :].decode(encoding), encoding, False)
            except UnicodeDecodeError as exc:
                return Decoded(None, None, False, f"invalid {encoding} after its BOM: {exc.reason}")
    if looks_binary(data):
        return Decoded(None, None, True, "binary content")
    try:
        return Decoded(data.decode("utf-8"), "utf-8", False)
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[: 1 << 20]).best()
    if best is None:
        return Decoded(None, None, False, "no text encoding explains the bytes")
    try:
        return Decoded(data.decode(best.encoding), best.encoding, False)
    except (UnicodeDecodeError, LookupError) as exc:
        return Decoded(None, None, False, f"undecodable as {best.encoding}: {exc}")
