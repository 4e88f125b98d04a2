"""Test isolation: every session gets its own Prefect home, ingest home and results.

Environment variables are set before anything imports Prefect, so no test touches
the user's Prefect database, store or cached results.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.support.web_testsite import SiteState

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="ingest-tests-"))
os.environ["PREFECT_HOME"] = str(_SESSION_HOME / "prefect")
os.environ["INGEST_HOME"] = str(_SESSION_HOME / "ingest")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "WARNING"
os.environ.pop("INGEST_STORE", None)
os.environ.pop("PREFECT_API_URL", None)

from tests.support.paths import REPO_ROOT, SAMPLES  # noqa: E402,F401  (after the env is set)

pytest_plugins = ["tests.hostile.session"]


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One real Prefect test harness for the whole session; yields its API URL.

    Subprocesses (the CLI) get the URL through PREFECT_API_URL and skip the slow
    start of their own temporary server.
    """
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        url = PREFECT_API_URL.value()
        assert url, "the test harness did not publish an API URL"
        yield str(url)


@pytest.fixture
def isolated_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fresh persisted-results folder: a test never sees another test's cache."""
    results = tmp_path / "results"
    monkeypatch.setenv("INGEST_RESULTS_DIR", str(results))
    return results


@pytest.fixture
def site() -> Iterator[SiteState]:
    """A fresh generated web site on 127.0.0.1 (its request log starts empty); `site.base`
    is its origin. Used by the web source, flow and CLI tests."""
    from tests.support.web_testsite import SiteState, start, stop

    state = SiteState()
    server, thread = start(state)
    try:
        yield state
    finally:
        stop(server, thread)
