"""When to try again: exponential backoff with full jitter, and Retry-After parsing."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def backoff_delay(attempt: int, base: float, cap: float, rand: float | None = None) -> float:
    """Seconds before retry `attempt` (0-based): uniform in [0, min(cap, base * 2**attempt)]."""
    ceiling: float = min(cap, base * (2.0**attempt))
    return ceiling * (random.random() if rand is None else rand)  # noqa: S311 - jitter, not crypto


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds asked for by a Retry-After header (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
