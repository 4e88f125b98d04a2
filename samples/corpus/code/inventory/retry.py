"""A small retry decorator for calls to supplier APIs."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class TransientError(Exception):
    """An error that may go away if the call is repeated."""


def retry(attempts: int = 3, base_delay: float = 0.5) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Retry the decorated function on TransientError with exponential backoff and jitter."""

    def decorate(fn: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            for attempt in range(1, attempts + 1):
                try:
                    return fn(*args, **kwargs)
                except TransientError:
                    if attempt == attempts:
                        raise
                    jitter = random.uniform(0.8, 1.2)  # noqa: S311 - spreads retries, not crypto
                    time.sleep(base_delay * 2 ** (attempt - 1) * jitter)
            raise AssertionError("unreachable")

        return wrapper

    return decorate


@retry(attempts=5)
def fetch_supplier_stock(supplier: str, sku: str) -> int:
    """Ask a supplier how many units of `sku` it can deliver this week."""
    raise TransientError(f"{supplier} did not answer for {sku}")
