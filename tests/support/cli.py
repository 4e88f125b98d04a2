"""The `ingest` CLI started in a child process, as from a user's shell."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

INGEST = [sys.executable, "-c", "from cli import main; main()"]


def start_ingest(*args: str, env: dict[str, str], **popen: Any) -> subprocess.Popen[str]:
    """`ingest ARGS...` running in a child process, its stdout and stderr piped as text;
    `popen` goes to `subprocess.Popen` as is."""
    return subprocess.Popen(
        [*INGEST, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )
