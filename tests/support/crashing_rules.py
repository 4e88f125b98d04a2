"""A custom validator that kills its process on marked content: a stand-in for a
native parser crash, which Python code cannot catch."""

from __future__ import annotations

import os
import signal

from ingest.models import FetchedContent


def crash_on_marker(content: FetchedContent) -> list[str]:
    if content.text and "CRASH-ME" in content.text:
        os.kill(os.getpid(), signal.SIGKILL)
    return []
