"""`ingest server start|stop|status` with a real `prefect server start` on 127.0.0.1,
and every other command finding it through what `start` remembered.

One server for the module (its first start creates its database); each test leaves it
running, so the tests do not depend on their order."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]
import pytest

from tests.support.fresh_user import run_ingest, user_env
from tests.support.paths import SAMPLES

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

UNREACHABLE = "http://127.0.0.1:9/api"


@dataclass
class Home:
    root: Path
    env: dict[str, str]

    def ingest(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return run_ingest(*args, env={**self.env, **extra_env})

    def record(self) -> dict[str, object]:
        data: dict[str, object] = json.loads(
            (self.root / "ingest" / "prefect-server" / "server.json").read_text()
        )
        return data

    def status(self) -> dict[str, object]:
        run = self.ingest("server", "status", "--json")
        data: dict[str, object] = json.loads(run.stdout)
        assert run.returncode == (0 if data["up"] else 3), run.stderr
        return data

    def ensure_started(self) -> subprocess.CompletedProcess[str]:
        run = self.ingest("server", "start")
        assert run.returncode == 0, run.stderr
        return run


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    root = tmp_path_factory.mktemp("server-home")
    home = Home(root=root, env=user_env(root))
    home.first_start = home.ensure_started()  # type: ignore[attr-defined]
    try:
        yield home
    finally:
        home.ingest("server", "stop")


def _flow_run_ids(api_url: str) -> set[str]:
    response = httpx.post(f"{api_url}/flow_runs/filter", json={"limit": 200}, timeout=30)
    response.raise_for_status()
    return {run["id"] for run in response.json()}


def test_start_prints_the_ui_and_remembers_the_server(home: Home) -> None:
    first = home.first_start  # type: ignore[attr-defined]
    record = home.record()
    url = f"http://127.0.0.1:{record['port']}"
    assert f"the UI is at {url}" in first.stdout
    assert f"PREFECT_API_URL={url}/api" in first.stdout
    assert httpx.get(f"{url}/api/health", timeout=10).json() is True
    status = home.status()
    assert status["up"] is True
    assert status["url"] == url
    assert isinstance(status["flow_runs"], int)
    assert (home.root / "ingest" / "prefect-server" / "prefect.db").is_file()


def test_later_commands_use_the_remembered_server(home: Home, tmp_path: Path) -> None:
    api_url = f"http://127.0.0.1:{home.record()['port']}/api"
    before = home.status()["flow_runs"]
    run = home.ingest("fs", str(SAMPLES), "--json", INGEST_STORE=str(tmp_path / "a.db"))
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["counts"]["new"] == 46
    assert report["run_id"] in _flow_run_ids(api_url)
    assert home.status()["flow_runs"] == before + 1  # type: ignore[operator]
    runs = home.ingest("runs")
    assert runs.returncode == 0, runs.stderr
    assert report["run_id"] in runs.stdout


def test_start_again_reuses_the_running_server(home: Home) -> None:
    record = home.record()
    again = home.ensure_started()
    assert "already running" in again.stdout
    assert home.record() == record


@pytest.mark.parametrize("how", ["environment", "profile"])
def test_an_explicit_api_url_wins_over_the_remembered_server(
    home: Home, how: str, tmp_path: Path
) -> None:
    extra: dict[str, str] = {}
    if how == "environment":
        extra["PREFECT_API_URL"] = UNREACHABLE
    else:
        profiles = tmp_path / "profiles.toml"
        profiles.write_text(
            f'active = "mine"\n\n[profiles.mine]\nPREFECT_API_URL = "{UNREACHABLE}"\n'
        )
        extra["PREFECT_PROFILES_PATH"] = str(profiles)
    before = home.status()["flow_runs"]
    run = home.ingest("fs", str(SAMPLES), INGEST_STORE=str(tmp_path / "b.db"), **extra)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert f"cannot reach the Prefect API at {UNREACHABLE}" in run.stderr
    assert "Traceback" not in run.stderr
    assert home.status()["flow_runs"] == before


def test_a_killed_server_is_said_in_one_line_and_the_temporary_api_is_used(
    home: Home, tmp_path: Path
) -> None:
    pid = int(home.record()["pid"])  # type: ignore[call-overload]
    os.killpg(pid, signal.SIGKILL)
    psutil.wait_procs([psutil.Process(pid)], timeout=30)
    try:
        status = home.status()
        assert status["up"] is False
        runs = home.ingest("runs")
        assert runs.returncode == 2
        lines = runs.stderr.strip().splitlines()
        assert "is not running" in lines[0]
        assert "temporary API" in lines[0]
        assert "no Prefect server configured" in lines[1]
        run = home.ingest("fs", str(SAMPLES), "--json", INGEST_STORE=str(tmp_path / "c.db"))
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["counts"]["new"] == 46
        assert run.stderr.count("is not running") == 1
    finally:
        restarted = home.ensure_started()
    assert "already running" not in restarted.stdout
    assert home.status()["up"] is True


def test_stop_ends_the_server_and_keeps_its_runs(home: Home) -> None:
    record = home.record()
    runs_before = home.status()["flow_runs"]
    stop = home.ingest("server", "stop")
    assert stop.returncode == 0, stop.stderr
    assert "stopped the Prefect server" in stop.stderr
    assert not psutil.pid_exists(record["pid"]) or (
        psutil.Process(record["pid"]).status() == psutil.STATUS_ZOMBIE
    )
    assert home.status()["up"] is False
    assert not (home.root / "ingest" / "prefect-server" / "server.json").exists()
    again = home.ingest("server", "stop")
    assert again.returncode == 0
    assert "no local Prefect server" in again.stderr
    home.ensure_started()
    assert home.status()["flow_runs"] == runs_before
