"""A custom validator that records the id of the process that validates each item, in
the file named by INGEST_TEST_PID_FILE: where the batches really ran."""

from __future__ import annotations

import os

from ingest.models import FetchedContent


def record_pid(content: FetchedContent) -> list[str]:
    with open(os.environ["INGEST_TEST_PID_FILE"], "a", encoding="utf-8") as out:
        out.write(f"{os.getpid()}\n")
    return []
