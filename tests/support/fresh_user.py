"""The `ingest` CLI as a user's shell runs it: none of the test session's Prefect or
ingest settings, homes of its own."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.cli import INGEST
from tests.support.paths import REPO_ROOT


def user_env(root: Path, **extra: str) -> dict[str, str]:
    """The session's environment without PREFECT_* and INGEST_* variables, with
    PREFECT_HOME and INGEST_HOME under `root` (created by the CLI on first use)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PREFECT_", "INGEST_"))
    }
    env.update(
        PREFECT_HOME=str(root / "prefect"),
        INGEST_HOME=str(root / "ingest"),
        PYTHONPATH=str(REPO_ROOT),
        **extra,
    )
    return env


def run_ingest(
    *args: str, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*INGEST, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
