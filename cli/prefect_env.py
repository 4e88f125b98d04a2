"""Prefect's settings for this process, fixed before the first `import prefect`
(Prefect reads its settings once, when it is imported, so a later change has no
effect): defaults, which API to use, and Prefect's start-up failures turned into one
line for the user.

Which API: an explicit PREFECT_API_URL (environment, or the active Prefect profile),
else the server `ingest server start` left running, else Prefect's temporary API.
The choice goes into the environment, so child processes (process pools, Dask
workers) make the same one."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

STARTUP_TIMEOUT_VARIABLE = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
# Prefect's default (20 s) is shorter than the first start of its temporary API with a
# new PREFECT_HOME (it creates and migrates its database: 26-28 s on a busy 2-core
# machine), and it counts only its own sleeps, so the real wait is longer still.
STARTUP_TIMEOUT_S = 120

_EPHEMERAL_TIMEOUT = "Timed out while attempting to connect to ephemeral Prefect API server"
_EPHEMERAL_EXITED = "Ephemeral server process exited with code"
_UNREACHABLE = "Failed to reach API at "


def prepare_prefect_settings() -> None:
    """Defaults the user has not set themselves; call before anything imports Prefect."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault(STARTUP_TIMEOUT_VARIABLE, str(STARTUP_TIMEOUT_S))
    _make_prefect_home()


def _make_prefect_home() -> None:
    # Prefect creates PREFECT_HOME without its parents; when they are missing its
    # temporary API cannot open its database and restarts until the timeout ends.
    if home := os.environ.get("PREFECT_HOME"):
        try:
            Path(home).expanduser().mkdir(parents=True, exist_ok=True)
        except OSError:
            pass  # Prefect says so itself


def use_local_server(notice: Callable[[str], None]) -> None:
    """Point this process at the server of `ingest server start`, unless the user chose
    an API. A remembered server that is gone is reported through `notice` (one line)
    and Prefect's temporary API is used instead."""
    if os.environ.get("PREFECT_API_URL") or profile_api_url():
        return
    from .local_server import is_up, read_record

    record = read_record()
    if record is None:
        return
    if is_up(record):
        os.environ["PREFECT_API_URL"] = record.api_url
        return
    notice(
        f"the local Prefect server at {record.url} is not running (`ingest server start` "
        "starts it again): using Prefect's temporary API"
    )


def profile_api_url() -> str | None:
    """PREFECT_API_URL as set in the active Prefect profile (`prefect config set`)."""
    home = Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()
    configured = os.environ.get("PREFECT_PROFILES_PATH")
    path = (
        Path(configured.replace("${PREFECT_HOME}", str(home))).expanduser()
        if configured
        else home / "profiles.toml"
    )
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    settings = profiles.get("profiles", {}).get(active, {})
    value = settings.get("PREFECT_API_URL") if isinstance(settings, dict) else None
    return str(value) if value else None


def startup_failure(exc: BaseException) -> str | None:
    """What failed and what to do, when `exc` (or its cause) is Prefect failing to
    start its temporary API or to reach the configured one; None for anything else."""
    for error in _chain(exc):
        if not isinstance(error, RuntimeError):
            continue
        text = str(error)
        if text.startswith(_EPHEMERAL_TIMEOUT):
            return _ephemeral_failure(text)
        if text.startswith(_UNREACHABLE):
            url = text.removeprefix(_UNREACHABLE).strip().rstrip("/")
            return (
                f"cannot reach the Prefect API at {url}: start that server, or unset "
                "PREFECT_API_URL to use a local one (`ingest server start`, or Prefect's "
                "temporary API)"
            )
    return None


def _ephemeral_failure(text: str) -> str:
    timeout = os.environ.get(STARTUP_TIMEOUT_VARIABLE, "20")
    if _EPHEMERAL_EXITED in text:
        code = text.split(_EPHEMERAL_EXITED, 1)[1].split(".", 1)[0].strip()
        what = f"Prefect's temporary API server exited with code {code} while starting"
    else:
        what = (
            f"Prefect's temporary API server did not start within {timeout} s (its first "
            "start creates its database; a busy machine is slower)"
        )
    return (
        f"{what}: raise {STARTUP_TIMEOUT_VARIABLE} (e.g. to 300), or start a local server "
        "once with `ingest server start` so runs need no temporary server"
    )


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def quiet_prefect(verbose: bool) -> None:
    """Keep Prefect's own chatter (telemetry, temporary-server banners, INFO logs) out of
    the user's terminal, without hiding it from the Prefect UI. Call before the first
    `import prefect` of the process."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_TASK_RUNS_LEVEL", "WARNING")
