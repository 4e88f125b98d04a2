"""Which runs `ingest runs` lists: by default the runs that have started or ended,
newest first (Prefect gives a run that ends without starting, such as a cancelled
future run, its end as start time); `--upcoming` the scheduled ones, soonest first;
narrowed by state, deployment, flow and start time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ingest.errors import ConfigurationError

from .specs import FS_FLOW, WEB_FLOW

FLOW_ALIASES = {"fs": FS_FLOW, "filesystem": FS_FLOW, "web": WEB_FLOW}

_AGO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True)
class RunQuery:
    state: str | None = None
    upcoming: bool = False
    deployment: str | None = None
    flow: str | None = None
    since: datetime | None = None
    limit: int = 20

    def __post_init__(self) -> None:
        if self.upcoming and self.state:
            raise ConfigurationError("--upcoming lists scheduled runs: leave out --state")
        if self.upcoming and self.since:
            raise ConfigurationError("--since is for runs that started: leave out --upcoming")

    @property
    def deployment_parts(self) -> tuple[str | None, str | None]:
        """`FLOW/NAME` or `NAME` -> (flow name or None, deployment name)."""
        if not self.deployment:
            return None, None
        flow, sep, name = self.deployment.rpartition("/")
        return (flow or None) if sep else None, name


def flow_name(text: str) -> str:
    """`fs`, `web` or a flow's full name."""
    return FLOW_ALIASES.get(text.strip().lower(), text.strip())


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`--since`: a duration ago (90m, 2h, 3d, 1w) or an ISO 8601 date or time (local
    unless it has an offset). Raises ConfigurationError."""
    now = now or datetime.now(UTC)
    if match := _AGO.match(text):
        return now - timedelta(
            seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        )
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ConfigurationError(
            f"invalid --since {text!r}: use a duration ago (30m, 2h, 3d, 1w) or an ISO 8601 "
            "date or time (2025-06-01, 2025-06-01T08:00)"
        ) from exc
    return when if when.tzinfo else when.astimezone()
