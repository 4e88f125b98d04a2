"""The parser child of `ingest.documents.sandbox`: `python -m ingest.documents.sandbox_child
MEMORY_MB`. It limits its own address space, then answers one request at a time until its
input closes. Parsers are imported on first use of their format."""

from __future__ import annotations

import json
import os
import resource
import struct
import sys
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO

from .extraction import Extracted, ExtractionError
from .limits import MB, DocumentLimits

_HEADER = struct.Struct(">I")
_REPLY = struct.Struct(">Q")

Extractor = Callable[[bytes, DocumentLimits], Extracted]


def _extractor(kind: str) -> Extractor:
    if kind == "pdf":
        from .pdf_text import extract_pdf

        return extract_pdf
    if kind == "docx":
        from .word import extract_docx

        return extract_docx
    if kind == "pptx":
        from .slides import extract_pptx

        return extract_pptx
    if kind == "xlsx":
        from .sheets import extract_xlsx

        return extract_xlsx
    if kind == "epub":
        from .epub_book import extract_epub

        return extract_epub
    raise ValueError(f"unknown document kind {kind!r}")


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    data = stream.read(size)
    if len(data) < size:
        return None
    return data


def _answer(out: BinaryIO, reply: dict[str, Any]) -> None:
    body = json.dumps(reply, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass")
    out.write(_REPLY.pack(len(body)) + body)
    out.flush()


def handle(kind: str, data: bytes, limits: DocumentLimits) -> dict[str, Any]:
    try:
        return {"ok": _extractor(kind)(data, limits).to_json()}
    except ExtractionError as exc:
        return {"error": {"code": exc.code, "message": exc.message}}
    except MemoryError:
        return {
            "fatal": True,
            "error": {
                "code": "too-much-memory",
                "message": f"parsing needed more than the {limits.memory_mb} MiB allowed",
            },
        }
    except RecursionError:
        return {"error": {"code": "corrupt", "message": "structure nested too deeply to read"}}
    except Exception as exc:  # the parser's own reason is the item's reason
        frame = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" (in {frame[0].name})" if frame else ""
        message = f"{type(exc).__name__}: {exc}"[:500] + where
        return {"error": {"code": "corrupt", "message": message}}


def main(argv: list[str]) -> int:
    memory = int(argv[1]) * MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # The protocol owns the real stdout; anything a library prints goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    inp = sys.stdin.buffer
    while True:
        raw = _read_exact(inp, _HEADER.size)
        if raw is None:
            return 0
        header = json.loads(_read_exact(inp, _HEADER.unpack(raw)[0]) or b"{}")
        data = _read_exact(inp, int(header["size"])) if header["size"] else b""
        if data is None:
            return 0
        reply = handle(header["kind"], data, DocumentLimits(**header["limits"]))
        del data
        _answer(out, reply)
        if reply.get("fatal"):
            return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
