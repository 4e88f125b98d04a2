"""The default worker count: in-process for small runs, the usable cores (at most 8)
for runs over a few hundred items; an explicit count always wins."""

from __future__ import annotations

import os

import pytest

from ingest import parallel
from ingest.parallel import MAX_DEFAULT_WORKERS, POOL_MIN_ITEMS, default_workers, workers_for


@pytest.mark.parametrize(
    ("items", "cores", "expected"),
    [
        (0, 4, 1),
        (POOL_MIN_ITEMS, 4, 1),
        (POOL_MIN_ITEMS + 1, 4, 4),
        (3_100, 2, 2),
        (100_000, 64, MAX_DEFAULT_WORKERS),
        (100_000, 1, 1),
    ],
)
def test_default_workers_follow_the_items_and_the_cores(
    items: int, cores: int, expected: int
) -> None:
    assert default_workers(items, cores=cores) == expected


def test_usable_cores_are_the_affinity_not_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 32)
    assert parallel.usable_cores() == 3
    assert default_workers(1_000) == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(20)), raising=False)
    assert default_workers(1_000) == MAX_DEFAULT_WORKERS


def test_an_explicit_count_wins_and_automatic_never_shrinks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parallel, "usable_cores", lambda: 4)
    assert workers_for(1, 50_000) == 1
    assert workers_for(3, 10) == 3
    counts = [workers_for(0, items) for items in range(0, 2_000, 50)]
    assert counts == sorted(counts)
    assert (counts[0], counts[-1]) == (1, 4)
    assert parallel.most_workers(0) == 4
