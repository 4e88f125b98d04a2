"""Fixtures of the web source tests: a real HTTP server on 127.0.0.1 per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web_testsite import SiteState, start, stop


@pytest.fixture
def site() -> Iterator[SiteState]:
    """A fresh generated site (its request log starts empty); `site.base` is its origin."""
    state = SiteState()
    server, thread = start(state)
    try:
        yield state
    finally:
        stop(server, thread)
