"""Keep Prefect's own chatter (telemetry, temporary-server banners, INFO logs)
out of the user's terminal, without hiding it from the Prefect UI."""

from __future__ import annotations

import os


def quiet_prefect(verbose: bool) -> None:
    """Call before the first `import prefect` of the process."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_TASK_RUNS_LEVEL", "WARNING")
