"""The README's first command as on a new machine: no Prefect server, a brand-new
PREFECT_HOME, so Prefect's temporary API creates its database on the way.

Every other CLI test talks to the session's test harness (PREFECT_API_URL), so this
is the one place the temporary API's first start is exercised."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fresh_user import run_ingest, user_env
from tests.support.paths import SAMPLES


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_first_run_with_a_new_prefect_home_succeeds_three_times_in_a_row(
    tmp_path: Path,
) -> None:
    for attempt in range(3):
        root = tmp_path / f"machine-{attempt}"
        run = run_ingest("fs", str(SAMPLES), "--json", env=user_env(root))
        assert run.returncode == 0, f"attempt {attempt + 1}: {run.stderr[-3000:]}"
        report = json.loads(run.stdout)
        assert report["state"] == "Completed"
        assert report["counts"]["discovered"] == 54
        assert report["counts"]["failed"] == 0
        assert "Traceback" not in run.stderr
        assert (root / "ingest" / "ingest.db").is_file()


def test_temporary_api_too_slow_to_start_is_one_line_and_exit_2(tmp_path: Path) -> None:
    # A user's own (here far too short) timeout is honoured, and Prefect's failure
    # to start its temporary API in time becomes one line saying what to do.
    env = user_env(tmp_path, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="1")
    run = run_ingest("fs", str(SAMPLES), env=env)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "temporary API server did not start within 1 s" in lines[0]
    assert "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" in lines[0]
    assert "ingest server start" in lines[0]
    assert run.stdout == ""


def test_unreachable_prefect_api_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = user_env(tmp_path, PREFECT_API_URL="http://127.0.0.1:9/api")
    run = run_ingest("fs", str(SAMPLES), env=env, timeout=120)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "cannot reach the Prefect API at http://127.0.0.1:9/api" in lines[0]
    assert not (tmp_path / "ingest" / "ingest.db").exists()


SPY_ON_THE_RUN = """
import sys
import cli.fs

def report_the_settings(run, as_json):
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS
    print(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
    raise SystemExit(0)

cli.fs.run_and_exit = report_the_settings
sys.argv = ["ingest", "fs", sys.argv[1]]
from cli import main
main()
"""


def test_the_cli_start_up_timeout_reaches_prefect(tmp_path: Path) -> None:
    # Prefect reads its settings when it is imported: the CLI's default must be in place
    # before the first import, which the options of `ingest fs` already cause.
    run = subprocess.run(
        [sys.executable, "-c", SPY_ON_THE_RUN, str(SAMPLES)],
        env=user_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "120"
