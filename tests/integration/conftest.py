"""The `stack` fixture: one real Prefect server (and, once a test starts it, a worker)
per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.harness import Stack, running_stack


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with running_stack() as running:
        yield running
