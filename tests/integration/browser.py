"""A headless Chromium that opens a page of the Prefect UI: a screenshot and the DOM once
the page's scripts have run. Tests that need it skip when it is absent, unless
INGEST_REQUIRE_CHROMIUM=1 (as `.ci/run` sets, after installing Debian's `chromium`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REQUIRE_ENV = "INGEST_REQUIRE_CHROMIUM"
# Virtual time: the page's timers run as fast as the CPU allows, the network in real time.
SETTLE_MS = 20_000


def chromium() -> str:
    """The browser's path; skips (or fails when it is required) without one."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    reason = "no headless Chromium (apt-get install chromium)"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}, and {REQUIRE_ENV}=1")
    pytest.skip(reason)


def _run(url: str, *flags: str, home: Path) -> subprocess.CompletedProcess[str]:
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        f"--user-data-dir={home}",
        f"--virtual-time-budget={SETTLE_MS}",
        *flags,
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


def screenshot(url: str, out: Path, *, width: int = 1280, height: int = 2400) -> Path:
    done = _run(
        url, f"--screenshot={out}", f"--window-size={width},{height}", home=out.parent / "chromium"
    )
    assert out.exists(), f"no screenshot of {url}: {done.stderr[-2000:]}"
    return out


def dom(url: str, home: Path) -> str:
    done = _run(url, "--dump-dom", "--window-size=1280,2400", home=home)
    assert done.stdout.strip(), f"no DOM from {url}: {done.stderr[-2000:]}"
    return done.stdout
