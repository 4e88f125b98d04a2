"""The parser sandbox: a small child process, started once per process and reused across
items, in which every document parse runs under an address-space limit (RLIMIT_AS) and a
wall-clock timeout. pdfium is C and cannot be interrupted from a thread; a child can be
killed. A timeout, a memory error or a crash kills the child, fails only its item, and the
next item gets a fresh one.

Protocol over the child's stdin/stdout, no pickle: a request is a 4-byte length, a JSON
header (`kind`, `size`, `limits`) and the document's bytes; a reply is an 8-byte length and
a JSON object, `{"ok": extracted}` or `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from typing import Any

from .limits import DocumentLimits

_HEADER = struct.Struct(">I")
_REPLY = struct.Struct(">Q")


class SandboxTimeout(Exception):
    """The parse took longer than the limit; the child was killed."""


class SandboxCrash(Exception):
    """The child died while parsing (a signal, or it ran out of memory)."""


class Sandbox:
    """One parser child; `run` is serialised (a process does one parse at a time)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._memory_mb = 0
        self._lock = threading.Lock()

    def run(self, kind: str, data: bytes, limits: DocumentLimits) -> dict[str, Any]:
        """The child's reply for one document. Raises SandboxTimeout or SandboxCrash."""
        with self._lock:
            process = self._ensure(limits.memory_mb)
            header = json.dumps(
                {"kind": kind, "size": len(data), "limits": limits.model_dump()}
            ).encode()
            deadline = time.monotonic() + limits.timeout_s
            try:
                assert process.stdin is not None
                process.stdin.write(_HEADER.pack(len(header)) + header)
                process.stdin.write(data)
                process.stdin.flush()
                raw = self._read_reply(process, deadline)
            except SandboxTimeout:
                self.stop()
                raise SandboxTimeout(f"parsing took longer than {limits.timeout_s:g} s") from None
            except (BrokenPipeError, ConnectionResetError, EOFError, OSError) as exc:
                reason = f"{self._death(exc)} (its memory limit is {limits.memory_mb} MiB)"
                self.stop()
                raise SandboxCrash(reason) from None
            reply: dict[str, Any] = json.loads(raw)
            if reply.get("fatal"):  # the child answered, then must not be reused
                self.stop()
            return reply

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
        if process is not None:
            process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()

    def _ensure(self, memory_mb: int) -> subprocess.Popen[bytes]:
        if self._process is not None and (
            self._process.poll() is not None or self._memory_mb != memory_mb
        ):
            self.stop()
        if self._process is None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "ingest.documents.sandbox_child", str(memory_mb)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                close_fds=True,
            )
            self._memory_mb = memory_mb
        return self._process

    def _read_reply(self, process: subprocess.Popen[bytes], deadline: float) -> bytes:
        assert process.stdout is not None
        fd = process.stdout.fileno()
        size = _REPLY.unpack(_read_exact(fd, _REPLY.size, deadline))[0]
        return _read_exact(fd, size, deadline)

    def _death(self, exc: BaseException) -> str:
        process = self._process
        code = None
        if process is not None:
            try:
                code = process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                code = None
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = str(-code)
            return f"the parser process was killed by {name}"
        if code is not None:
            return f"the parser process exited with status {code}"
        return f"the parser process stopped answering: {type(exc).__name__}"


def _read_exact(fd: int, size: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SandboxTimeout
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            raise SandboxTimeout
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the parser process closed its output")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


_sandbox = Sandbox()
atexit.register(_sandbox.stop)


def sandbox() -> Sandbox:
    """This process's sandbox (each worker process of a pool has its own)."""
    return _sandbox
